//! Secrets never reach a log line or an error message: a database or Redis URL is
//! shown with its password (in the user info, or a `password=` parameter) replaced.

/// `url` with every password in it replaced by `***`.
pub(crate) fn url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let authority = match authority.rsplit_once('@') {
        Some((user_info, host)) => match user_info.split_once(':') {
            Some((user, _password)) => format!("{user}:***@{host}"),
            None => authority.to_owned(),
        },
        None => authority.to_owned(),
    };
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let query: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((key, _)) if key.eq_ignore_ascii_case("password") => format!("{key}=***"),
                    _ => pair.to_owned(),
                })
                .collect();
            format!("{path}?{}", query.join("&"))
        }
        None => tail.to_owned(),
    };
    format!("{scheme}://{authority}{tail}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_are_hidden_and_the_rest_is_kept() {
        for (given, shown) in [
            (
                "postgres://app:s3cret@db:5432/votewire?sslmode=require",
                "postgres://app:***@db:5432/votewire?sslmode=require",
            ),
            (
                "rediss://:s3cret@cache:6380/0",
                "rediss://:***@cache:6380/0",
            ),
            (
                "mysql://app@db/votewire?password=s3cret&ssl-mode=required",
                "mysql://app@db/votewire?password=***&ssl-mode=required",
            ),
            ("sqlite://data/votewire.db", "sqlite://data/votewire.db"),
            ("not a url", "not a url"),
        ] {
            assert_eq!(super::url(given), shown);
        }
    }
}
