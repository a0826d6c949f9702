//! A running server over a fresh SQLite database, with helpers to make users.

use plumbline_domain::{ProjectName, ProjectRole, ProjectSettings, Rubric, Scopes};
use plumbline_server::AppState;
use plumbline_server::auth::{hash_password, new_token_secret, token_hash};
use plumbline_store::{IdentityStore, NewProject, NewUser, Project, SqliteStore, Store, User};
use std::sync::atomic::{AtomicU32, Ordering};

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A server on 127.0.0.1:<random port> and the store behind it.
pub struct App {
    pub base: String,
    pub store: SqliteStore,
    pub http: reqwest::Client,
    pub dir: std::path::PathBuf,
    _stop: tokio::sync::oneshot::Sender<()>,
}

pub const RUBRIC: &str = r#"
name = "Triage"
[[criteria]]
key = "safety"
title = "Safety <script>alert('rubric')</script>"
priority = 1
hard = true
[[criteria]]
key = "empathy"
title = "Empathy"
priority = 2
"#;

impl App {
    /// Starts a server over a new database in a temporary directory.
    pub async fn start() -> App {
        App::start_with(|_| {}).await
    }

    /// [`App::start`] with settings changed by `configure`.
    pub async fn start_with(configure: impl FnOnce(&mut AppState<SqliteStore>)) -> App {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!("plumbline-api-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let store = SqliteStore::open(&dir.join("db.sqlite")).await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let mut state = AppState::new(store.clone());
        state.releases_dir = dir.join("releases");
        configure(&mut state);
        tokio::spawn(plumbline_server::serve(listener, state, async {
            let _ = stopped.await;
        }));
        App {
            base,
            store,
            http: reqwest::Client::new(),
            dir,
            _stop: stop,
        }
    }

    /// A project named `name`.
    pub async fn project(&self, name: &str) -> Project {
        self.project_requiring(name, &[]).await
    }

    /// A project named `name` that requires `expertise` (`domain:level` each).
    pub async fn project_requiring(&self, name: &str, expertise: &[&str]) -> Project {
        let settings = ProjectSettings {
            required_expertise: expertise.iter().map(|e| e.parse().unwrap()).collect(),
            ..ProjectSettings::default()
        };
        self.store
            .create_project(
                None,
                NewProject {
                    name: ProjectName::parse(name).unwrap(),
                    settings,
                    rubric: Rubric::from_toml(RUBRIC).unwrap(),
                },
            )
            .await
            .unwrap()
    }

    /// A user with password `name` repeated to 12+ characters.
    pub async fn user(&self, name: &str, admin: bool) -> User {
        let password = password_of(name);
        let hash = tokio::task::spawn_blocking(move || hash_password(&password).unwrap())
            .await
            .unwrap();
        self.store
            .create_user(
                None,
                NewUser {
                    name: name.into(),
                    password_hash: Some(hash),
                    is_admin: admin,
                },
            )
            .await
            .unwrap()
    }

    /// Makes `user` a member of `project` with `role`.
    pub async fn member(&self, project: &Project, user: &User, role: ProjectRole) {
        self.store
            .add_member(None, project.id, user.id, role)
            .await
            .unwrap();
    }

    /// A token of `user` with `scopes`, expiring at `expires_at` (Unix ms) if given.
    pub async fn token(&self, user: &User, scopes: &str, expires_at: Option<i64>) -> (i64, String) {
        let secret = new_token_secret().unwrap();
        let scopes: Scopes = scopes.parse().unwrap();
        let id = self
            .store
            .create_token(None, user.id, token_hash(&secret), scopes, expires_at)
            .await
            .unwrap();
        (id, secret)
    }

    /// `base` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

impl Drop for App {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The test password of a user.
pub fn password_of(name: &str) -> String {
    format!("{name}-correct-horse-battery")
}

/// The `name=value` of the session cookie a sign-in response sets.
pub fn cookie_of(r: &reqwest::Response) -> String {
    r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned()
}

/// `sentence` spoken by espeak-ng as WAV bytes; `None` (a loud skip) when espeak-ng is not
/// installed, a failure under `CI=true`. `tag` keeps concurrent tests' files apart.
pub fn speech(tag: &str, sentence: &str) -> Option<Vec<u8>> {
    let path = std::env::temp_dir().join(format!("plumbline-api-{tag}-{}.wav", std::process::id()));
    let made = std::process::Command::new("espeak-ng")
        .args(["-w", path.to_str().unwrap(), sentence])
        .output();
    match made {
        Ok(out) if out.status.success() => {
            let bytes = std::fs::read(&path).unwrap();
            std::fs::remove_file(&path).unwrap();
            Some(bytes)
        }
        other => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "espeak-ng is needed under CI: {other:?}"
            );
            eprintln!("*** SKIPPED: espeak-ng is not installed (apt-get install espeak-ng) ***");
            None
        }
    }
}
