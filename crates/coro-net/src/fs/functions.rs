//! The free functions of `coro::fs`: each is its `std::fs` namesake run
//! on the blocking pool in one trip (a whole `read` or `write` is one
//! trip too: the work is one syscall sequence the OS does at memory
//! speed, and splitting it would only add trips).

use std::fs::{Metadata, Permissions};
use std::io;
use std::path::{Path, PathBuf};

use super::blocking::asyncify;

/// Declares `pub async fn $name($arg: impl AsRef<Path>, ...) -> io::Result<$ret>`
/// running `std::fs::$name` on the blocking pool, with its doc comment.
macro_rules! path_fns {
    ($(
        $(#[$doc:meta])*
        fn $name:ident($($arg:ident: $ty:ident),*) -> $ret:ty;
    )*) => {$(
        $(#[$doc])*
        pub async fn $name($($arg: impl AsRef<$ty>),*) -> io::Result<$ret> {
            $(let $arg = $arg.as_ref().to_owned();)*
            asyncify(move || std::fs::$name($(&$arg),*)).await
        }
    )*};
}

path_fns! {
    /// Reads a whole file into a `Vec` (`std::fs::read` on the blocking pool).
    ///
    /// # Examples
    ///
    /// ```
    /// #[coro::main(flavor = "current_thread")]
    /// async fn main() -> std::io::Result<()> {
    ///     let path = std::env::temp_dir().join(format!("coro-read-{}", std::process::id()));
    ///     coro::fs::write(&path, b"bytes").await?;
    ///     assert_eq!(coro::fs::read(&path).await?, b"bytes");
    ///     coro::fs::remove_file(&path).await
    /// }
    /// ```
    fn read(path: Path) -> Vec<u8>;

    /// Reads a whole UTF-8 file into a `String`; invalid UTF-8 is
    /// `InvalidData`.
    ///
    /// # Examples
    ///
    /// ```
    /// #[coro::main(flavor = "current_thread")]
    /// async fn main() -> std::io::Result<()> {
    ///     let path = std::env::temp_dir().join(format!("coro-rts-{}", std::process::id()));
    ///     coro::fs::write(&path, "text").await?;
    ///     assert_eq!(coro::fs::read_to_string(&path).await?, "text");
    ///     coro::fs::remove_file(&path).await
    /// }
    /// ```
    fn read_to_string(path: Path) -> String;

    /// Copies a file's contents and permissions to `to` (replacing it);
    /// returns the number of bytes copied.
    ///
    /// # Examples
    ///
    /// ```
    /// #[coro::main(flavor = "current_thread")]
    /// async fn main() -> std::io::Result<()> {
    ///     let dir = std::env::temp_dir().join(format!("coro-copy-{}", std::process::id()));
    ///     coro::fs::create_dir_all(&dir).await?;
    ///     coro::fs::write(dir.join("a"), b"abc").await?;
    ///     assert_eq!(coro::fs::copy(dir.join("a"), dir.join("b")).await?, 3);
    ///     assert_eq!(coro::fs::read(dir.join("b")).await?, b"abc");
    ///     coro::fs::remove_dir_all(&dir).await
    /// }
    /// ```
    fn copy(from: Path, to: Path) -> u64;

    /// Renames (moves) a file or directory, replacing `to` if it is a file.
    ///
    /// # Examples
    ///
    /// ```
    /// #[coro::main(flavor = "current_thread")]
    /// async fn main() -> std::io::Result<()> {
    ///     let dir = std::env::temp_dir().join(format!("coro-rename-{}", std::process::id()));
    ///     coro::fs::create_dir_all(&dir).await?;
    ///     coro::fs::write(dir.join("old"), b"x").await?;
    ///     coro::fs::rename(dir.join("old"), dir.join("new")).await?;
    ///     assert!(!coro::fs::try_exists(dir.join("old")).await?);
    ///     assert!(coro::fs::try_exists(dir.join("new")).await?);
    ///     coro::fs::remove_dir_all(&dir).await
    /// }
    /// ```
    fn rename(from: Path, to: Path) -> ();

    /// Removes a file (or symlink).
    ///
    /// # Examples
    ///
    /// ```
    /// #[coro::main(flavor = "current_thread")]
    /// async fn main() -> std::io::Result<()> {
    ///     let path = std::env::temp_dir().join(format!("coro-rm-{}", std::process::id()));
    ///     coro::fs::write(&path, b"").await?;
    ///     coro::fs::remove_file(&path).await?;
    ///     let err = coro::fs::remove_file(&path).await.unwrap_err();
    ///     assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    ///     Ok(())
    /// }
    /// ```
    fn remove_file(path: Path) -> ();

    /// Removes an empty directory.
    ///
    /// # Examples
    ///
    /// ```
    /// #[coro::main(flavor = "current_thread")]
    /// async fn main() -> std::io::Result<()> {
    ///     let dir = std::env::temp_dir().join(format!("coro-rmdir-{}", std::process::id()));
    ///     coro::fs::create_dir(&dir).await?;
    ///     coro::fs::remove_dir(&dir).await
    /// }
    /// ```
    fn remove_dir(path: Path) -> ();

    /// Removes a directory and everything in it.
    ///
    /// # Examples
    ///
    /// ```
    /// #[coro::main(flavor = "current_thread")]
    /// async fn main() -> std::io::Result<()> {
    ///     let dir = std::env::temp_dir().join(format!("coro-rmall-{}", std::process::id()));
    ///     coro::fs::create_dir_all(dir.join("a/b")).await?;
    ///     coro::fs::write(dir.join("a/b/f"), b"x").await?;
    ///     coro::fs::remove_dir_all(&dir).await?;
    ///     assert!(!coro::fs::try_exists(&dir).await?);
    ///     Ok(())
    /// }
    /// ```
    fn remove_dir_all(path: Path) -> ();

    /// Creates a directory; its parent must exist.
    ///
    /// # Examples
    ///
    /// ```
    /// #[coro::main(flavor = "current_thread")]
    /// async fn main() -> std::io::Result<()> {
    ///     let dir = std::env::temp_dir().join(format!("coro-mkdir-{}", std::process::id()));
    ///     coro::fs::create_dir(&dir).await?;
    ///     let err = coro::fs::create_dir(&dir).await.unwrap_err();
    ///     assert_eq!(err.kind(), std::io::ErrorKind::AlreadyExists);
    ///     coro::fs::remove_dir(&dir).await
    /// }
    /// ```
    fn create_dir(path: Path) -> ();

    /// Creates a directory and any missing parents.
    ///
    /// # Examples
    ///
    /// ```
    /// #[coro::main(flavor = "current_thread")]
    /// async fn main() -> std::io::Result<()> {
    ///     let dir = std::env::temp_dir().join(format!("coro-mkdirs-{}", std::process::id()));
    ///     coro::fs::create_dir_all(dir.join("x/y/z")).await?;
    ///     assert!(coro::fs::metadata(dir.join("x/y/z")).await?.is_dir());
    ///     coro::fs::remove_dir_all(&dir).await
    /// }
    /// ```
    fn create_dir_all(path: Path) -> ();

    /// The metadata of a path, following symlinks.
    ///
    /// # Examples
    ///
    /// ```
    /// #[coro::main(flavor = "current_thread")]
    /// async fn main() -> std::io::Result<()> {
    ///     assert!(coro::fs::metadata("/").await?.is_dir());
    ///     Ok(())
    /// }
    /// ```
    fn metadata(path: Path) -> Metadata;

    /// The metadata of a path itself, not following a final symlink.
    ///
    /// # Examples
    ///
    /// ```
    /// #[coro::main(flavor = "current_thread")]
    /// async fn main() -> std::io::Result<()> {
    ///     let dir = std::env::temp_dir().join(format!("coro-lmeta-{}", std::process::id()));
    ///     coro::fs::create_dir_all(&dir).await?;
    ///     coro::fs::symlink("/", dir.join("link")).await?;
    ///     assert!(coro::fs::symlink_metadata(dir.join("link")).await?.is_symlink());
    ///     coro::fs::remove_dir_all(&dir).await
    /// }
    /// ```
    fn symlink_metadata(path: Path) -> Metadata;

    /// The absolute path with every symlink, `.` and `..` resolved; the
    /// path must exist.
    ///
    /// # Examples
    ///
    /// ```
    /// #[coro::main(flavor = "current_thread")]
    /// async fn main() -> std::io::Result<()> {
    ///     assert_eq!(coro::fs::canonicalize("/usr/..").await?, std::path::Path::new("/"));
    ///     Ok(())
    /// }
    /// ```
    fn canonicalize(path: Path) -> PathBuf;

    /// Creates `link` as a new name (hard link) for the file `original`.
    ///
    /// # Examples
    ///
    /// ```
    /// #[coro::main(flavor = "current_thread")]
    /// async fn main() -> std::io::Result<()> {
    ///     let dir = std::env::temp_dir().join(format!("coro-hl-{}", std::process::id()));
    ///     coro::fs::create_dir_all(&dir).await?;
    ///     coro::fs::write(dir.join("a"), b"same").await?;
    ///     coro::fs::hard_link(dir.join("a"), dir.join("b")).await?;
    ///     assert_eq!(coro::fs::read(dir.join("b")).await?, b"same");
    ///     coro::fs::remove_dir_all(&dir).await
    /// }
    /// ```
    fn hard_link(original: Path, link: Path) -> ();

    /// The target a symlink points to.
    ///
    /// # Examples
    ///
    /// ```
    /// #[coro::main(flavor = "current_thread")]
    /// async fn main() -> std::io::Result<()> {
    ///     let dir = std::env::temp_dir().join(format!("coro-rl-{}", std::process::id()));
    ///     coro::fs::create_dir_all(&dir).await?;
    ///     coro::fs::symlink("target-name", dir.join("link")).await?;
    ///     assert_eq!(coro::fs::read_link(dir.join("link")).await?, std::path::Path::new("target-name"));
    ///     coro::fs::remove_dir_all(&dir).await
    /// }
    /// ```
    fn read_link(path: Path) -> PathBuf;
}

/// Writes `contents` as the whole new content of `path`, creating it if
/// needed (`std::fs::write` on the blocking pool).
///
/// # Examples
///
/// ```
/// #[coro::main(flavor = "current_thread")]
/// async fn main() -> std::io::Result<()> {
///     let path = std::env::temp_dir().join(format!("coro-write-{}", std::process::id()));
///     coro::fs::write(&path, "first").await?;
///     coro::fs::write(&path, "second").await?;
///     assert_eq!(coro::fs::read_to_string(&path).await?, "second");
///     coro::fs::remove_file(&path).await
/// }
/// ```
pub async fn write(path: impl AsRef<Path>, contents: impl AsRef<[u8]>) -> io::Result<()> {
    let (path, contents) = (path.as_ref().to_owned(), contents.as_ref().to_owned());
    asyncify(move || std::fs::write(path, contents)).await
}

/// Sets a path's permissions (following symlinks).
///
/// # Examples
///
/// ```
/// use std::os::unix::fs::PermissionsExt;
///
/// #[coro::main(flavor = "current_thread")]
/// async fn main() -> std::io::Result<()> {
///     let path = std::env::temp_dir().join(format!("coro-perm-{}", std::process::id()));
///     coro::fs::write(&path, b"").await?;
///     coro::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).await?;
///     assert_eq!(coro::fs::metadata(&path).await?.permissions().mode() & 0o777, 0o600);
///     coro::fs::remove_file(&path).await
/// }
/// ```
pub async fn set_permissions(path: impl AsRef<Path>, permissions: Permissions) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::set_permissions(path, permissions)).await
}

/// Whether `path` exists: `Ok(false)` if it does not, `Err` if that
/// cannot be known (a permission error on a parent, say); a broken
/// symlink does not exist.
///
/// # Examples
///
/// ```
/// #[coro::main(flavor = "current_thread")]
/// async fn main() -> std::io::Result<()> {
///     assert!(coro::fs::try_exists("/").await?);
///     assert!(!coro::fs::try_exists("/no/such/path").await?);
///     Ok(())
/// }
/// ```
pub async fn try_exists(path: impl AsRef<Path>) -> io::Result<bool> {
    let path = path.as_ref().to_owned();
    asyncify(move || path.try_exists()).await
}

/// Creates a symbolic link `link` pointing at `original` (Unix).
///
/// # Examples
///
/// ```
/// #[coro::main(flavor = "current_thread")]
/// async fn main() -> std::io::Result<()> {
///     let link = std::env::temp_dir().join(format!("coro-sym-{}", std::process::id()));
///     coro::fs::symlink("/", &link).await?;
///     assert!(coro::fs::metadata(&link).await?.is_dir());
///     coro::fs::remove_file(&link).await
/// }
/// ```
pub async fn symlink(original: impl AsRef<Path>, link: impl AsRef<Path>) -> io::Result<()> {
    let (original, link) = (original.as_ref().to_owned(), link.as_ref().to_owned());
    asyncify(move || std::os::unix::fs::symlink(original, link)).await
}
