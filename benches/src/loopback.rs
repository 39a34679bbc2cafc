//! loadgen only ever targets this machine: every URL it is given is checked here.
//!
//! Why parse rather than compare prefixes: `http://127.0.0.1@example.com` and
//! `http://localhost.example.com` start like loopback URLs and are not. The URLs are
//! parsed with the same `url` crate reqwest and sqlx use, so the host checked here is the
//! host they connect to.

use std::net::IpAddr;

use reqwest::Url;

/// Which database a replica URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Database {
    /// `mysql://` or `mariadb://`.
    MySql,
    /// `postgres://` or `postgresql://`.
    Postgres,
}

/// True for `localhost` and for addresses in 127.0.0.0/8 or `::1`.
fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn parse(url: &str, flag: &str) -> Result<Url, String> {
    let shown = redacted(url);
    let parsed = Url::parse(url).map_err(|e| format!("{flag} {shown}: {e}"))?;
    match parsed.host_str() {
        Some(host) if is_loopback(host) => Ok(parsed),
        _ => Err(format!(
            "{flag} {shown}: loadgen only targets loopback (127.0.0.0/8, localhost, [::1])"
        )),
    }
}

/// Checks a votewire URL (given as `flag`): plain HTTP to a loopback host.
pub fn check_http(url: &str, flag: &str) -> Result<(), String> {
    let parsed = parse(url, flag)?;
    if parsed.scheme() != "http" {
        return Err(format!("{flag} {url}: only http:// URLs"));
    }
    Ok(())
}

/// Checks a Redis URL (`--redis`): plain `redis://` to a loopback host.
pub fn check_redis(url: &str) -> Result<(), String> {
    let parsed = parse(url, "--redis")?;
    if parsed.scheme() != "redis" {
        return Err(format!("--redis {}: only redis:// URLs", redacted(url)));
    }
    Ok(())
}

/// Checks a database URL (`--replica`): MySQL/MariaDB or PostgreSQL on a loopback host,
/// with no `host`/`hostaddr` parameter that would send the connection elsewhere.
pub fn check_database(url: &str) -> Result<Database, String> {
    let parsed = parse(url, "--replica")?;
    let database = match parsed.scheme() {
        "mysql" | "mariadb" => Database::MySql,
        "postgres" | "postgresql" => Database::Postgres,
        other => {
            return Err(format!(
                "--replica {url}: {other}:// is not mysql://, mariadb://, postgres:// or postgresql://"
            ));
        }
    };
    if let Some((key, _)) = parsed
        .query_pairs()
        .find(|(key, _)| key == "host" || key == "hostaddr")
    {
        return Err(format!(
            "--replica {url}: a {key}= parameter would override the loopback host"
        ));
    }
    Ok(database)
}

/// The URL without its password, for reports and messages.
pub fn redacted(url: &str) -> String {
    match Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        Ok(_) => url.to_owned(),
        Err(_) => "(unparsable URL)".to_owned(),
    }
}

/// `host:port` of a URL, to name a replica in a chart's legend.
pub fn host_port(url: &str) -> String {
    match Url::parse(url) {
        Ok(parsed) => {
            let host = parsed.host_str().unwrap_or("?");
            parsed
                .port()
                .map_or(host.to_owned(), |port| format!("{host}:{port}"))
        }
        Err(_) => "?".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_http_urls_pass() {
        for ok in [
            "http://127.0.0.1:8080",
            "http://127.1.2.3/",
            "http://localhost:18081",
            "http://[::1]:8080",
        ] {
            assert_eq!(check_http(ok, "--url"), Ok(()), "{ok}");
        }
        for refused in [
            "http://127.0.0.1@example.com/",
            "http://localhost.example.com",
            "http://10.0.0.1:8080",
            "https://127.0.0.1:8080",
            "127.0.0.1:8080",
        ] {
            assert!(check_http(refused, "--url").is_err(), "{refused}");
        }
    }

    #[test]
    fn only_loopback_databases_pass() {
        assert_eq!(
            check_database("mysql://root@127.0.0.1:13307/votewire"),
            Ok(Database::MySql)
        );
        assert_eq!(
            check_database("postgres://u:p@localhost:15433/votewire"),
            Ok(Database::Postgres)
        );
        assert_eq!(
            check_database("mariadb://root@[::1]:13307/votewire"),
            Ok(Database::MySql)
        );
        for refused in [
            "mysql://root@db.example.com/votewire",
            "postgres://localhost/votewire?host=db.example.com",
            "postgres:///votewire",
            "sqlite://votewire.db",
            "redis://127.0.0.1:16379",
        ] {
            assert!(check_database(refused).is_err(), "{refused}");
        }
    }

    #[test]
    fn only_loopback_redis_passes_and_its_password_stays_out_of_errors() {
        assert_eq!(check_redis("redis://:pw@127.0.0.1:28180"), Ok(()));
        for refused in [
            "redis://:secret@10.0.0.1:6379",
            "rediss://:secret@127.0.0.1:6379",
            "http://:secret@127.0.0.1:6379",
        ] {
            let why = check_redis(refused).expect_err(refused);
            assert!(!why.contains("secret"), "{why}");
        }
    }

    #[test]
    fn passwords_are_not_shown() {
        assert_eq!(
            redacted("postgres://u:secret@127.0.0.1/v"),
            "postgres://u:***@127.0.0.1/v"
        );
        assert_eq!(
            redacted("mysql://root@127.0.0.1/v"),
            "mysql://root@127.0.0.1/v"
        );
    }
}
