//! CPU pinning for the one-worker runs.
//!
//! On a machine with few cores the load generator competes with the server for them: a
//! one-worker server and a wrk thread left to the scheduler share a core part of the time,
//! which measures the scheduler as much as the server. With two or more CPUs, a one-worker
//! server (and the single-process reference) runs on [`SERVER_CPU`] and the load generator
//! on [`LOAD_CPU`], so each has a core of its own. Two-worker servers are left unpinned:
//! with two cores they share both with the generator by design, which is the other figure
//! the report gives.
//!
//! Pinning uses util-linux's `taskset`, present on every Debian-like system; without it (or
//! with one CPU) the runs are unpinned and the report says so.

use std::process::{Command, Stdio};

/// The CPU a pinned server runs on.
pub(crate) const SERVER_CPU: usize = 0;
/// The CPU the load generator runs on when the server is pinned.
pub(crate) const LOAD_CPU: usize = 1;

/// Whether one-worker runs can be pinned apart: at least two CPUs and `taskset` works.
pub(crate) fn available() -> bool {
    let cpus = std::thread::available_parallelism().map_or(1, usize::from);
    cpus >= 2
        && Command::new("taskset")
            .args(["-c", &SERVER_CPU.to_string(), "true"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
}

/// Pins every thread of process `pid` to `cpu`. Threads the process starts later inherit
/// the affinity of the thread that starts them, so pinning after start-up covers them too.
///
/// `taskset -a` lists the process's threads, then sets each: a thread that ends in between
/// (the Python reference starts and ends helper threads while it boots) makes it fail with
/// "No such process" although the process is alive. That is retried, a few times, a little
/// later; any other failure, or a process that is gone, is an error at once.
pub(crate) fn pin_process(pid: u32, cpu: usize) -> anyhow::Result<()> {
    const ATTEMPTS: usize = 5;
    let mut attempt = 1;
    loop {
        let status = Command::new("taskset")
            .args(["-a", "-p", "-c", &cpu.to_string(), &pid.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()?;
        if status.status.success() {
            return Ok(());
        }
        let stderr = String::from_utf8_lossy(&status.stderr);
        let thread_ended = stderr.contains("No such process")
            && std::path::Path::new(&format!("/proc/{pid}")).exists();
        if !thread_ended || attempt == ATTEMPTS {
            anyhow::bail!(
                "taskset could not pin pid {pid} to CPU {cpu}: {}",
                stderr.trim()
            );
        }
        attempt += 1;
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// A command that runs `program` on `cpu` only.
pub(crate) fn command_on(cpu: usize, program: &std::path::Path) -> Command {
    let mut command = Command::new("taskset");
    command.arg("-c").arg(cpu.to_string()).arg(program);
    command
}
