//! Locating the external services (PostgreSQL, Redis) and tools (`promtool`) that
//! service-backed tests need.
//!
//! A test asks for its service with [`require_postgres`] or [`require_redis`]: the URL comes
//! from the environment (`ASAP_TEST_POSTGRES_URL`, `ASAP_TEST_REDIS_URL`; `.ci/run` starts
//! both servers and sets them). Without it a local run skips the test with a printed reason,
//! while a CI run (`CI=true`) fails it, so a CI machine that lost its services cannot pass
//! by skipping.
//!
//! ```no_run
//! let Some(url) = asap_testing::services::require_postgres() else {
//!     return; // skipped: the reason is printed
//! };
//! # let _ = url;
//! ```

/// The variable naming the PostgreSQL server of the tests, a `postgres://` URL.
pub const POSTGRES_URL_VAR: &str = "ASAP_TEST_POSTGRES_URL";

/// The variable naming the Redis server of the tests, a `redis://` URL.
pub const REDIS_URL_VAR: &str = "ASAP_TEST_REDIS_URL";

/// The PostgreSQL URL from [`POSTGRES_URL_VAR`], when set and not empty.
pub fn postgres_url() -> Option<String> {
    url_from(POSTGRES_URL_VAR)
}

/// The Redis URL from [`REDIS_URL_VAR`], when set and not empty.
pub fn redis_url() -> Option<String> {
    url_from(REDIS_URL_VAR)
}

/// The PostgreSQL URL, or `None` after printing why the test is skipped.
///
/// # Panics
///
/// When the URL is missing and `CI=true`: CI must run every service-backed test.
pub fn require_postgres() -> Option<String> {
    require(POSTGRES_URL_VAR)
}

/// The Redis URL, or `None` after printing why the test is skipped.
///
/// # Panics
///
/// When the URL is missing and `CI=true`: CI must run every service-backed test.
pub fn require_redis() -> Option<String> {
    require(REDIS_URL_VAR)
}

/// The URL in `var`, or `None` after printing why the test is skipped (a panic under
/// `CI=true`). For services other than the two named ones.
pub fn require(var: &str) -> Option<String> {
    let url = url_from(var);
    if url.is_none() {
        if on_ci() {
            panic!("{var} is not set, and CI=true requires every service-backed test to run");
        }
        eprintln!("skipped: {var} is not set");
    }
    url
}

/// The path of the program `name` on `PATH` (such as `promtool`), or `None` after printing
/// why the test is skipped (a panic under `CI=true`, where `.ci/run` installs it).
pub fn require_tool(name: &str) -> Option<std::path::PathBuf> {
    let found = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|candidate| candidate.is_file())
    });
    if found.is_none() {
        if on_ci() {
            panic!("{name} is not on PATH, and CI=true requires every tool-backed test to run");
        }
        eprintln!("skipped: {name} is not on PATH");
    }
    found
}

/// Whether this is a CI run (`CI=true`, as `.ci/run` sets it).
pub fn on_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true") || v == "1")
}

fn url_from(var: &str) -> Option<String> {
    std::env::var(var)
        .ok()
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}
