//! A small WebDriver (W3C) client over reqwest, enough to drive headless Chromium
//! through Debian's `chromedriver`: sessions, navigation, elements, keys, scripts and
//! screenshots.

use serde_json::{Value, json};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
pub const CHROMIUM: &str = "/usr/bin/chromium";
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A chromedriver process and one browser session.
pub struct Browser {
    http: reqwest::Client,
    base: String,
    driver: Child,
    profile: std::path::PathBuf,
}

/// Whether the browser tests can run here; `None` means run, `Some(why)` skip.
pub fn unavailable() -> Option<String> {
    for bin in [CHROMEDRIVER, CHROMIUM] {
        if !std::path::Path::new(bin).exists() {
            return Some(format!(
                "{bin} is missing (apt-get install -y chromium chromium-driver)"
            ));
        }
    }
    None
}

impl Browser {
    /// Starts chromedriver on a free port and opens a headless session `width` wide.
    pub async fn start(width: u32, height: u32) -> Browser {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(r) = http.get(format!("{base}/status")).send().await
                && r.status().is_success()
            {
                break;
            }
            assert!(Instant::now() < deadline, "chromedriver did not come up");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let profile =
            std::env::temp_dir().join(format!("plumbline-chromium-{}-{port}", std::process::id()));
        let _ = std::fs::remove_dir_all(&profile);
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": CHROMIUM, "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run", format!("--user-data-dir={}", profile.display()),
                // The player's test plays audio without a click first.
                "--autoplay-policy=no-user-gesture-required",
                format!("--window-size={width},{height}")]}}}});
        let r: Value = http
            .post(format!("{base}/session"))
            .json(&caps)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = r["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no WebDriver session: {r}"))
            .to_owned();
        Browser {
            http,
            base: format!("{base}/session/{id}"),
            driver,
            profile,
        }
    }

    async fn cmd(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r: Value = req.send().await.unwrap().json().await.unwrap();
        r["value"].clone()
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        let v = self.cmd(reqwest::Method::POST, path, Some(body)).await;
        if let Some(e) = v.get("error") {
            panic!("WebDriver {path}: {e} {}", v["message"]);
        }
        v
    }

    /// Opens `url`.
    pub async fn goto(&self, url: &str) {
        self.post("/url", json!({"url": url})).await;
    }

    /// The element matching `css` (waits up to 10 s for it).
    pub async fn find(&self, css: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let v = self
                .cmd(
                    reqwest::Method::POST,
                    "/element",
                    Some(json!({"using": "css selector", "value": css})),
                )
                .await;
            if let Some(id) = v.get(ELEMENT).and_then(|x| x.as_str()) {
                return id.to_owned();
            }
            if Instant::now() > deadline {
                let page = self
                    .cmd(reqwest::Method::POST, "/execute/sync", Some(json!({"script": "return location.href + ' ' + document.documentElement.outerHTML.slice(0, 600);", "args": []})))
                    .await;
                panic!("no element matches `{css}` ({v}); page: {page}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Clicks the element matching `css`.
    pub async fn click(&self, css: &str) {
        let id = self.find(css).await;
        self.post(&format!("/element/{id}/click"), json!({})).await;
    }

    /// Types `text` into the element matching `css`.
    pub async fn type_into(&self, css: &str, text: &str) {
        let id = self.find(css).await;
        self.post(&format!("/element/{id}/value"), json!({"text": text}))
            .await;
    }

    /// Presses keys at the document level, one after another; `\u{E009}` (Control),
    /// `\u{E008}` (Shift) and `\u{E00A}` (Alt) stay held until the end of `keys`.
    pub async fn keys(&self, keys: &str) {
        let mut actions = Vec::new();
        let mut held = Vec::new();
        for k in keys.chars() {
            actions.push(json!({"type": "keyDown", "value": k.to_string()}));
            if matches!(k, '\u{E009}' | '\u{E008}' | '\u{E00A}') {
                held.push(k);
            } else {
                actions.push(json!({"type": "keyUp", "value": k.to_string()}));
            }
        }
        for k in held.into_iter().rev() {
            actions.push(json!({"type": "keyUp", "value": k.to_string()}));
        }
        self.post(
            "/actions",
            json!({"actions": [{"type": "key", "id": "keyboard", "actions": actions}]}),
        )
        .await;
    }

    /// Runs `script` (a function body; `arguments` are `args`) and returns its value.
    pub async fn js(&self, script: &str, args: Value) -> Value {
        self.post("/execute/sync", json!({"script": script, "args": args}))
            .await
    }

    /// Runs `script` asynchronously: it ends by calling its last argument, the callback,
    /// with the value to return (WebDriver's "execute async script").
    pub async fn js_async(&self, script: &str, args: Value) -> Value {
        self.post("/execute/async", json!({"script": script, "args": args}))
            .await
    }

    /// Waits up to 10 s until `script` returns true.
    pub async fn wait_for(&self, what: &str, script: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if self.js(script, json!([])).await == Value::Bool(true) {
                return;
            }
            if Instant::now() > deadline {
                let text = self
                    .js(
                        "return location.href + ' ' + document.body.innerText.slice(0, 800);",
                        json!([]),
                    )
                    .await;
                panic!("timed out waiting for {what}; page: {text}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The text of an open alert, if any (an alert would mean injected script ran).
    pub async fn alert_text(&self) -> Option<String> {
        let v = self.cmd(reqwest::Method::GET, "/alert/text", None).await;
        v.as_str().map(str::to_owned)
    }

    /// Resizes the window.
    pub async fn resize(&self, width: u32, height: u32) {
        self.post("/window/rect", json!({"width": width, "height": height}))
            .await;
    }

    /// Saves a PNG screenshot to `target/ui-screenshots/<name>.png`.
    pub async fn screenshot(&self, name: &str) {
        let v = self.cmd(reqwest::Method::GET, "/screenshot", None).await;
        let png = base64_decode(v.as_str().expect("screenshot data"));
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/ui-screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }

    /// Ends the session and the driver.
    pub async fn quit(mut self) {
        let _ = self.cmd(reqwest::Method::DELETE, "", None).await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
    }
}

fn base64_decode(s: &str) -> Vec<u8> {
    let val = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0);
    for v in s.bytes().filter_map(val) {
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}
