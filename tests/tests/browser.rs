//! A real browser: headless Chromium, driven over WebDriver (chromedriver), uses the board
//! through nginx as a person would, and leaves a screenshot.

use std::{
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use e2e::{free_port, repo, Stack};
use fantoccini::{ClientBuilder, Locator};

/// chromedriver on a port of its own, killed when dropped.
struct Driver {
    child: Child,
    port: u16,
}

impl Driver {
    fn start() -> Self {
        let port = free_port();
        let child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect(
                "chromedriver is installed (Debian's chromium-driver; scripts/test installs it)",
            );
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        Self { child, port }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Types into the form's three fields, as a person would, and submits it.
async fn fill_and_submit(
    browser: &fantoccini::Client,
    title: &str,
    author: &str,
    text: &str,
) -> Result<(), fantoccini::error::CmdError> {
    for (field, value) in [("title", title), ("author", author), ("text", text)] {
        browser
            .find(Locator::Id(field))
            .await?
            .send_keys(value)
            .await?;
    }
    browser
        .find(Locator::Css("button[type=submit]"))
        .await?
        .click()
        .await
}

#[test]
fn a_person_posts_a_comment_and_sees_the_errors_of_an_empty_form() {
    // The stack's harness is blocking; the WebDriver client is async, in a runtime of its own.
    let stack = Stack::up("browser");
    let driver = Driver::start();
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(drive(&stack, &driver));
}

async fn drive(stack: &Stack, driver: &Driver) {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "args": ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1100,1300"]
        }),
    );
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    let browser = ClientBuilder::new(connector)
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .expect("a session with headless Chromium");

    let result = async {
        browser.goto(&stack.url("/")).await?;
        assert_eq!(browser.title().await?, "Comment board");
        fill_and_submit(
            &browser,
            "Hello from Chromium",
            "A real browser",
            "Typed, submitted, redirected, shown: <b>escaped</b>.",
        )
        .await?;
        browser
            .wait()
            .for_element(Locator::Css("li.comment"))
            .await?;
        assert_eq!(
            browser.current_url().await?.path(),
            "/",
            "post/redirect/get"
        );
        let first = browser
            .find(Locator::Css("li.comment h3"))
            .await?
            .text()
            .await?;
        assert!(first.ends_with("Hello from Chromium"), "{first}");
        let body = browser
            .find(Locator::Css("li.comment .body"))
            .await?
            .text()
            .await?;
        assert_eq!(body, "Typed, submitted, redirected, shown: <b>escaped</b>.");

        // A second comment so the screenshot shows the order, newest first.
        fill_and_submit(
            &browser,
            "Newest first",
            "Ann",
            "Below the form, every comment.",
        )
        .await?;
        browser
            .wait()
            .for_element(Locator::XPath("//h3[contains(., 'Newest first')]"))
            .await?;
        let titles = browser.find_all(Locator::Css("li.comment h3")).await?;
        assert!(titles[0].text().await?.ends_with("Newest first"));
        let shot = browser.screenshot().await?;
        let path = repo().join("target/e2e-board.png");
        std::fs::write(&path, &shot).expect("the screenshot is saved");
        if std::env::var_os("UPDATE_SCREENSHOT").is_some() {
            std::fs::write(repo().join("docs/screenshot.png"), &shot).unwrap();
        }

        // An empty form: the errors beside each field, nothing posted.
        browser
            .find(Locator::Css("button[type=submit]"))
            .await?
            .click()
            .await?;
        browser.wait().for_element(Locator::Css("p.error")).await?;
        let errors = browser.find_all(Locator::Css("p.error")).await?;
        let mut messages = Vec::new();
        for e in errors {
            messages.push(e.text().await?);
        }
        assert_eq!(
            messages,
            [
                "Title is required.",
                "Author is required.",
                "Message is required."
            ]
        );
        assert_eq!(browser.find_all(Locator::Css("li.comment")).await?.len(), 2);
        Ok::<(), fantoccini::error::CmdError>(())
    }
    .await;
    let _ = browser.close().await;
    result.expect("the browser session");
}
