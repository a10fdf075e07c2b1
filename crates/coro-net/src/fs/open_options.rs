//! [`OpenOptions`]: std's, with an async `open` that returns coro's
//! [`File`].

use std::io;
use std::path::Path;

use super::blocking::asyncify;
use super::File;

/// How to open a file: `std::fs::OpenOptions` with an async
/// [`open`](OpenOptions::open). Get one from [`OpenOptions::new`] or
/// [`File::options`].
///
/// # Examples
///
/// ```
/// use coro::fs::OpenOptions;
/// use coro::io::AsyncWriteExt;
///
/// #[coro::main(flavor = "current_thread")]
/// async fn main() -> std::io::Result<()> {
///     let path = std::env::temp_dir().join(format!("coro-oo-{}", std::process::id()));
///     coro::fs::write(&path, "one\n").await?;
///     let mut log = OpenOptions::new().append(true).open(&path).await?;
///     log.write_all(b"two\n").await?;
///     log.flush().await?;
///     assert_eq!(coro::fs::read_to_string(&path).await?, "one\ntwo\n");
///     coro::fs::remove_file(&path).await
/// }
/// ```
#[derive(Clone, Debug)]
pub struct OpenOptions(std::fs::OpenOptions);

/// Declares the forwarding setters, each with its doc comment.
macro_rules! setters {
    ($($(#[$doc:meta])* fn $name:ident;)*) => {$(
        $(#[$doc])*
        pub fn $name(&mut self, $name: bool) -> &mut OpenOptions {
            self.0.$name($name);
            self
        }
    )*};
}

impl OpenOptions {
    /// All options off: set at least `read`, `write` or `append`.
    ///
    /// # Examples
    ///
    /// ```
    /// #[coro::main(flavor = "current_thread")]
    /// async fn main() {
    ///     let err = coro::fs::OpenOptions::new().open("/").await.unwrap_err();
    ///     assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    /// }
    /// ```
    pub fn new() -> OpenOptions {
        OpenOptions(std::fs::OpenOptions::new())
    }

    setters! {
        /// Open for reading.
        ///
        /// # Examples
        ///
        /// ```
        /// #[coro::main(flavor = "current_thread")]
        /// async fn main() -> std::io::Result<()> {
        ///     coro::fs::OpenOptions::new().read(true).open("/etc/hostname").await?;
        ///     Ok(())
        /// }
        /// ```
        fn read;
        /// Open for writing (from the start, over what is there).
        ///
        /// # Examples
        ///
        /// ```
        /// #[coro::main(flavor = "current_thread")]
        /// async fn main() -> std::io::Result<()> {
        ///     let path = std::env::temp_dir().join(format!("coro-oow-{}", std::process::id()));
        ///     coro::fs::OpenOptions::new().write(true).create(true).open(&path).await?;
        ///     coro::fs::remove_file(&path).await
        /// }
        /// ```
        fn write;
        /// Open for appending: every write goes to the current end.
        ///
        /// # Examples
        ///
        /// ```
        /// #[coro::main(flavor = "current_thread")]
        /// async fn main() -> std::io::Result<()> {
        ///     let path = std::env::temp_dir().join(format!("coro-ooa-{}", std::process::id()));
        ///     coro::fs::OpenOptions::new().append(true).create(true).open(&path).await?;
        ///     coro::fs::remove_file(&path).await
        /// }
        /// ```
        fn append;
        /// Cut the file to length 0 when opening it for writing.
        ///
        /// # Examples
        ///
        /// ```
        /// #[coro::main(flavor = "current_thread")]
        /// async fn main() -> std::io::Result<()> {
        ///     let path = std::env::temp_dir().join(format!("coro-oot-{}", std::process::id()));
        ///     coro::fs::write(&path, "old").await?;
        ///     coro::fs::OpenOptions::new().write(true).truncate(true).open(&path).await?;
        ///     assert_eq!(coro::fs::read(&path).await?, b"");
        ///     coro::fs::remove_file(&path).await
        /// }
        /// ```
        fn truncate;
        /// Create the file if it does not exist.
        ///
        /// # Examples
        ///
        /// ```
        /// #[coro::main(flavor = "current_thread")]
        /// async fn main() -> std::io::Result<()> {
        ///     let path = std::env::temp_dir().join(format!("coro-ooc-{}", std::process::id()));
        ///     coro::fs::OpenOptions::new().write(true).create(true).open(&path).await?;
        ///     assert!(coro::fs::try_exists(&path).await?);
        ///     coro::fs::remove_file(&path).await
        /// }
        /// ```
        fn create;
        /// Create the file, failing with `AlreadyExists` if it exists.
        ///
        /// # Examples
        ///
        /// ```
        /// #[coro::main(flavor = "current_thread")]
        /// async fn main() {
        ///     let err = coro::fs::OpenOptions::new().write(true).create_new(true).open("/").await.unwrap_err();
        ///     assert_eq!(err.kind(), std::io::ErrorKind::AlreadyExists);
        /// }
        /// ```
        fn create_new;
    }

    /// Opens `path` with these options.
    ///
    /// # Errors
    ///
    /// The OS error (`NotFound`, `PermissionDenied`, `AlreadyExists`, ...),
    /// or `InvalidInput` for an impossible combination of options.
    ///
    /// # Examples
    ///
    /// ```
    /// #[coro::main(flavor = "current_thread")]
    /// async fn main() {
    ///     let err = coro::fs::OpenOptions::new().read(true).open("/no/such/file").await.unwrap_err();
    ///     assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    /// }
    /// ```
    pub async fn open(&self, path: impl AsRef<Path>) -> io::Result<File> {
        let (options, path) = (self.0.clone(), path.as_ref().to_owned());
        let std = asyncify(move || options.open(path)).await?;
        Ok(File::from_std(std))
    }

    /// The std options underneath, for the platform extensions
    /// (`std::os::unix::fs::OpenOptionsExt`: `mode`, `custom_flags`).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    ///
    /// #[coro::main(flavor = "current_thread")]
    /// async fn main() -> std::io::Result<()> {
    ///     let path = std::env::temp_dir().join(format!("coro-oom-{}", std::process::id()));
    ///     let mut options = coro::fs::OpenOptions::new();
    ///     options.write(true).create(true).as_std_mut().mode(0o640);
    ///     options.open(&path).await?;
    ///     assert_eq!(coro::fs::metadata(&path).await?.permissions().mode() & 0o777, 0o640 & !umask());
    ///     coro::fs::remove_file(&path).await
    /// }
    /// # fn umask() -> u32 { let m = unsafe { libc::umask(0) }; unsafe { libc::umask(m) }; m as u32 }
    /// ```
    pub fn as_std_mut(&mut self) -> &mut std::fs::OpenOptions {
        &mut self.0
    }
}

impl Default for OpenOptions {
    fn default() -> OpenOptions {
        OpenOptions::new()
    }
}

impl From<std::fs::OpenOptions> for OpenOptions {
    fn from(std: std::fs::OpenOptions) -> OpenOptions {
        OpenOptions(std)
    }
}
