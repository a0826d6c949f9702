//! Choosing a backend from the database URL's scheme.

use crate::error::StoreError;
use std::path::PathBuf;

/// The default database: an SQLite file under `./plumbline-data`.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://./plumbline-data/plumbline.db";

/// A parsed database URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// `sqlite://PATH` (relative or absolute) or `sqlite::memory:`.
    Sqlite(PathBuf),
    /// `postgres://…` or `postgresql://…`, passed to the driver as is.
    Postgres(String),
}

impl DatabaseUrl {
    /// Parses a URL, naming the accepted schemes when it has none of them.
    pub fn parse(url: &str) -> Result<DatabaseUrl, StoreError> {
        if let Some(path) = url.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err(StoreError::Invalid("sqlite:// URL has no path".into()));
            }
            Ok(DatabaseUrl::Sqlite(PathBuf::from(path)))
        } else if let Some(path) = url.strip_prefix("sqlite:") {
            Ok(DatabaseUrl::Sqlite(PathBuf::from(path)))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(DatabaseUrl::Postgres(url.to_owned()))
        } else {
            Err(StoreError::Invalid(format!(
                "database URL `{}` has no known scheme (use sqlite://PATH or postgres://…)",
                redact(url)
            )))
        }
    }
}

/// The URL with any password replaced by `***`, for messages and logs.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.find(':') {
                Some(c) => format!("{}{}:***{}", &url[..s + 3], &creds[..c], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes() {
        assert_eq!(
            DatabaseUrl::parse("sqlite://./data/p.db").unwrap(),
            DatabaseUrl::Sqlite("./data/p.db".into())
        );
        assert!(matches!(
            DatabaseUrl::parse("postgres://u@h/db"),
            Ok(DatabaseUrl::Postgres(_))
        ));
        let err = DatabaseUrl::parse("mysql://root:hunter2@h/db")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("no known scheme") && !err.contains("hunter2"),
            "{err}"
        );
    }
}
