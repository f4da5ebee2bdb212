//! What the operating system says about this process's memory (Linux
//! `/proc`) and about the free space of a file system.

/// Peak resident set size of this process (bytes), from `/proc/self/status` (Linux).
pub fn peak_rss_bytes() -> Option<u64> {
    proc_status_kib("VmHWM:").map(|k| k * 1024)
}

/// Current resident set size of this process (bytes) (Linux).
pub fn rss_bytes() -> Option<u64> {
    proc_status_kib("VmRSS:").map(|k| k * 1024)
}

fn proc_status_kib(key: &str) -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with(key))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Memory available to this process (bytes): `MemAvailable` of `/proc/meminfo`.
pub fn available_bytes() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = s.lines().find(|l| l.starts_with("MemAvailable:"))?;
    line.split_whitespace().nth(1)?.parse::<u64>().ok().map(|k| k * 1024)
}

/// Bytes free to this user on the file system holding `path` (`statvfs`;
/// `None` where it cannot be asked).
pub fn available_disk_bytes(path: &std::path::Path) -> Option<u64> {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let c = std::ffi::CString::new(path.as_os_str().as_bytes()).ok()?;
        // SAFETY: `c` is a NUL-terminated path, `s` a zeroed statvfs that
        // the call fills; nothing is read from it unless the call succeeded.
        let mut s: libc::statvfs = unsafe { std::mem::zeroed() };
        if unsafe { libc::statvfs(c.as_ptr(), &mut s) } != 0 {
            return None;
        }
        #[allow(clippy::unnecessary_cast)] // the field widths differ between platforms
        Some(s.f_bavail as u64 * s.f_frsize as u64)
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        None
    }
}

/// Bytes as `12.3 MiB` (B, KiB, MiB, GiB, TiB); u128 so that estimates of
/// absurd sizes print too.
pub fn bytes_text(b: u128) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut x = b as f64;
    let mut u = 0;
    while x >= 1024.0 && u + 1 < units.len() {
        x /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{b} B")
    } else {
        format!("{x:.1} {}", units[u])
    }
}

/// A vector of `n` copies of `value` for a size the user chose: refused with
/// [`crate::CortecsError::Allocation`] naming `what` when it exceeds the
/// memory available or the allocator refuses, instead of aborting.
pub fn try_filled<T: Clone>(n: usize, value: T, what: impl FnOnce() -> String) -> crate::Result<Vec<T>> {
    let bytes = n as u128 * std::mem::size_of::<T>() as u128;
    let available = available_bytes();
    let mut v = Vec::new();
    if available.is_some_and(|a| bytes > u128::from(a)) || v.try_reserve_exact(n).is_err() {
        return Err(crate::CortecsError::Allocation {
            what: what(),
            bytes,
            available,
        });
    }
    v.resize(n, value);
    Ok(v)
}
