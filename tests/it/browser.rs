//! The classroom end to end in a real headless browser: Debian's chromium driven through
//! chromedriver (WebDriver). A teacher and three students play; without a browser the test skips
//! loudly, unless `PIONEER_REQUIRE_BROWSER=1` (set by `.ci/run`) makes that a failure.

use fantoccini::{Client, ClientBuilder, Locator};
use pioneer::model::fixed::ONE;
use pioneer::model::trace::{Choice, Learn};
use pioneer::scenario::Scenario;
use pioneer::serve::classroom::Classroom;
use pioneer::serve::classroom::Lever;
use pioneer::serve::ws::{Clock, Game};
use pioneer::serve::Shared;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

const FLAGS: [&str; 9] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
    "--disable-quic",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1300,1000",
];

/// chromedriver on a free port, killed when dropped.
struct Driver(Child, u16);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn driver_or_skip() -> Option<Driver> {
    let found = |b: &str| {
        Command::new("sh")
            .args(["-c", &format!("command -v {b}")])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if !(found("chromedriver") && found("chromium")) {
        let why = "no chromium and chromedriver (Debian's packages chromium and chromium-driver)";
        crate::common::skip_unless_required("PIONEER_REQUIRE_BROWSER", why);
        return None;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let child = Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    Some(Driver(child, port))
}

/// A browser session of its own (its own profile, so its own localStorage).
async fn browser(d: &Driver) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert("browserName".into(), "chrome".into());
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({"binary": "/usr/bin/chromium", "args": FLAGS}),
    );
    let t0 = Instant::now();
    loop {
        let conn = hyper_util::client::legacy::connect::HttpConnector::new();
        match ClientBuilder::new(conn)
            .capabilities(caps.clone())
            .connect(&format!("http://127.0.0.1:{}", d.1))
            .await
        {
            Ok(c) => return c,
            Err(e) if t0.elapsed() < Duration::from_secs(20) => {
                let _ = e;
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => panic!("no WebDriver session: {e}"),
        }
    }
}

/// Wait up to 10 s for the element's text to satisfy `ok`; return it.
async fn text_until(c: &Client, css: &str, ok: impl Fn(&str) -> bool) -> String {
    let t0 = Instant::now();
    loop {
        if let Ok(e) = c.find(Locator::Css(css)).await {
            if let Ok(t) = e.text().await {
                if ok(&t) {
                    return t;
                }
            }
        }
        assert!(t0.elapsed() < Duration::from_secs(10), "`{css}` never became as expected");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn click(c: &Client, css: &str) {
    c.find(Locator::Css(css)).await.expect(css).click().await.expect("clicks");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_class_plays_in_a_real_browser() {
    let Some(driver) = driver_or_skip() else { return };
    let sc = Scenario::load(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scenarios/classroom.toml"
    )))
    .expect("classroom");
    let shared: Arc<Shared> = Shared::new(
        Game::new(
            Classroom::new(sc, 1, "ABCD".into()).expect("builds"),
            Clock {
                running: false,
                months_per_second: 10.0,
            },
            "teacher-secret",
        ),
        std::env::temp_dir().join(format!("pioneer-browser-{}-debrief", std::process::id())),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("binds");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(pioneer::serve::run(listener, shared.clone(), std::future::pending()));

    let teacher = browser(&driver).await;
    teacher
        .goto(&format!("{base}/teacher?token=teacher-secret"))
        .await
        .expect("teacher page");
    text_until(&teacher, "#code", |t| t == "ABCD").await;
    // The token went into the page's cookie: the address bar, projected, shows no secret.
    let at = teacher.current_url().await.expect("url");
    assert_eq!(at.path(), "/teacher", "{at}");
    assert!(!at.as_str().contains("teacher-secret"), "the address shows the token: {at}");

    let mut students = Vec::new();
    let mut units = Vec::new();
    for name in ["Ann", "Bo", "Cy"] {
        let s = browser(&driver).await;
        s.goto(&base).await.expect("student page");
        s.find(Locator::Css("#code"))
            .await
            .expect("code")
            .send_keys("abcd")
            .await
            .expect("types");
        s.find(Locator::Css("#name"))
            .await
            .expect("name")
            .send_keys(name)
            .await
            .expect("types");
        click(&s, "#joinform button").await;
        units.push(text_until(&s, "#unit", |t| !t.is_empty()).await);
        students.push(s);
    }
    let mut distinct = units.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 3, "three units: {units:?}");
    text_until(&teacher, "#students", |t| t == "3 students").await;

    // Ann decides; the teacher steps three months.
    let ann = &students[0];
    ann.find(Locator::Css("#agenda"))
        .await
        .expect("agenda")
        .select_by_value("yes")
        .await
        .expect("selects");
    ann.find(Locator::Css("#design"))
        .await
        .expect("design")
        .select_by_value("exemplar")
        .await
        .expect("selects");
    ann.find(Locator::Css("#publicity-choice"))
        .await
        .expect("publicity")
        .select_by_value("high")
        .await
        .expect("selects");
    click(ann, "#apply").await;
    text_until(ann, "#error", |t| t.starts_with("decided")).await;
    for _ in 0..3 {
        click(&teacher, "#step").await;
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    text_until(&teacher, "#month", |t| t.starts_with("month 3 ")).await;
    text_until(ann, "#month", |t| t.starts_with("3 ")).await;
    {
        let g = shared.game();
        let s = g.class.students.iter().find(|s| s.name == "Ann").expect("Ann");
        assert_eq!(g.class.policy(s.unit).agenda, Choice::Yes, "the decision is in the model");
        assert_eq!(g.class.policy(s.unit).learn, Learn::Exemplar, "which source to learn from");
        assert_eq!(g.class.state().mu[s.unit], ONE, "publicity high, in the state");
        assert_eq!(g.class.log.decisions.len(), 1);
    }
    text_until(ann, "#publicity", |t| t == "1.00").await;

    // A reload gets the same unit, and shows the choices in force.
    ann.refresh().await.expect("reloads");
    text_until(ann, "#unit", |t| t == units[0]).await;
    let agenda = ann
        .find(Locator::Css("#agenda"))
        .await
        .expect("agenda")
        .prop("value")
        .await
        .expect("value");
    assert_eq!(agenda.as_deref(), Some("yes"));

    // Start, then pause: time stops.
    click(&teacher, "#start").await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    click(&teacher, "#pause").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let m = shared.game().class.month;
    assert!(m > 3, "months passed while running ({m})");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(shared.game().class.month, m, "paused");

    // The levers from the page: a signal, a pilot in units clicked on the map, a recognition now,
    // and a student moved to a unit clicked on the map.
    teacher
        .find(Locator::Css("#signal-value"))
        .await
        .expect("signal")
        .select_by_value("0.8")
        .await
        .expect("selects");
    click(&teacher, "#signal").await;
    text_until(&teacher, "#levers", |t| t.contains("upper signal set to 0.80")).await;
    teacher
        .find(Locator::Css("#space-value"))
        .await
        .expect("space")
        .select_by_value("0.9")
        .await
        .expect("selects");
    click(&teacher, "#space").await;
    text_until(&teacher, "#levers", |t| t.contains("institutional space set to 0.90")).await;
    teacher
        .find(Locator::Css("#mandate-depth"))
        .await
        .expect("depth")
        .select_by_value("2")
        .await
        .expect("selects");
    click(&teacher, "#mandate").await;
    text_until(&teacher, "#levers", |t| {
        t.contains("a mandate: every unit to rung 2 within 36 months")
    })
    .await;
    // A click on the canvas where unit `i` is drawn (the page's own hit test finds it).
    let click_unit = |i: usize| {
        let script = format!(
            "const [x, y] = dots.find((d) => d[3] === {i}); const map = document.getElementById('map'); const b = map.getBoundingClientRect(); map.dispatchEvent(new MouseEvent('click', {{clientX: b.left + x * b.width / map.width, clientY: b.top + y * b.height / map.height}}));"
        );
        let t = &teacher;
        async move { t.execute(&script, vec![]).await.expect("clicks the map") }
    };
    let free: Vec<usize> = {
        let g = shared.game();
        let w = &g.class.model.world;
        let deepest = w.level.iter().copied().max().expect("units");
        (0..w.len())
            .filter(|&u| w.level[u] == deepest && g.class.students.iter().all(|s| s.unit != u))
            .take(2)
            .collect()
    };
    click_unit(free[0]).await;
    click_unit(free[1]).await;
    let names: Vec<String> = free.iter().map(|&u| shared.game().class.model.world.names[u].clone()).collect();
    text_until(&teacher, "#selected", |t| t == names.join(", ")).await;
    click(&teacher, "#pilot").await;
    text_until(&teacher, "#levers", |t| t.contains("a pilot in")).await;
    click(&teacher, "#recognise").await;
    text_until(&teacher, "#levers", |t| t.contains("a recognition now")).await;
    click(&teacher, "#clear").await;
    click_unit(free[0]).await;
    click(&teacher, "#assign").await;
    text_until(&teacher, "#error", |t| t == "moved").await;
    click(&teacher, "#step").await;
    text_until(&teacher, "#month", |t| t.starts_with(&format!("month {} ", m + 1))).await;
    {
        let g = shared.game();
        let pulled: Vec<&Lever> = g.class.log.levers.iter().map(|p| &p.lever).collect();
        assert_eq!(
            pulled,
            [
                &Lever::Signal(pioneer::model::fixed::q16(0.8)),
                &Lever::Space(pioneer::model::fixed::q16(0.9)),
                &Lever::Mandate { depth: 2, months: 36 },
                &Lever::Pilot(free.iter().map(|&u| u as u32).collect()),
                &Lever::Recognise
            ]
        );
        assert_eq!(g.class.students[0].unit, free[0], "Ann moved to the unit clicked");
        assert_eq!(&g.class.replayed(), g.class.state(), "the class replays, levers and all");
    }
    let m = m + 1;

    // The teacher's page is drawn: the map's units in their depth colours.
    text_until(&teacher, "#month", |t| t.starts_with(&format!("month {m} "))).await;
    let png = teacher.screenshot().await.expect("screenshot");
    let img = image::load_from_memory(&png).expect("png").to_rgb8();
    let grey = img.pixels().filter(|p| p.0 == [0xd9, 0xdd, 0xe3]).count();
    let non_white = img.pixels().filter(|p| p.0 != [255, 255, 255]).count();
    assert!(grey > 2000, "units not yet adopted drawn in grey: {grey} pixels");
    assert!(non_white * 10 > img.pixels().count(), "the page is not blank");
    let shots = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("classroom-teacher.png");
    std::fs::write(&shots, &png).expect("saves the screenshot");
    let png = ann.screenshot().await.expect("screenshot");
    std::fs::write(shots.with_file_name("classroom-student.png"), &png).expect("saves");

    // The debrief, from the teacher's link: the files, then the report with the class's section.
    let href = teacher
        .find(Locator::Css("#debrief"))
        .await
        .expect("debrief link")
        .attr("href")
        .await
        .expect("href")
        .expect("an address");
    teacher.goto(&format!("{base}{href}")).await.expect("debrief");
    text_until(&teacher, "h1", |t| t.starts_with("Debrief, month")).await;
    click(&teacher, "#report").await;
    text_until(&teacher, "body", |t| {
        t.contains("Each student's trace") && t.contains("Who was promoted, and why")
    })
    .await;
    teacher
        .execute(
            "[...document.querySelectorAll('h2')].find((h) => h.textContent === 'The class').scrollIntoView()",
            vec![],
        )
        .await
        .expect("scrolls to the class");
    let png = teacher.screenshot().await.expect("screenshot");
    std::fs::write(shots.with_file_name("classroom-report.png"), &png).expect("saves");
    for s in students {
        let _ = s.close().await;
    }
    let _ = teacher.close().await;
}
