//! Real clients and load generators nobody here wrote (`curl`, `wrk`,
//! `h2load`) are Debian packages; whoever needs one installs it if it is
//! missing. Shared by `http_report` and the integration tests (via
//! `#[path]`).

use std::process::Command;

/// Installs the Debian `package` if `tool` is not on the PATH (after an
/// `apt-get update` if the first try fails).
pub fn ensure_tool(tool: &str, package: &str) -> Result<(), String> {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|out| out.status.success());
    if found {
        return Ok(());
    }
    let install = format!(
        "(apt-get install -y {package} || (apt-get update && apt-get install -y {package})) \
         >/dev/null 2>&1"
    );
    let installed = Command::new("sh")
        .args(["-c", &install])
        .status()
        .is_ok_and(|status| status.success());
    if installed {
        Ok(())
    } else {
        Err(format!(
            "{tool} is not installed and `apt-get install -y {package}` failed"
        ))
    }
}
