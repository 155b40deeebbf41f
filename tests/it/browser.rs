//! The classroom end to end in a real headless browser: Debian's chromium driven through
//! chromedriver (WebDriver). A teacher and three students play, 25 more join behind them; the
//! teacher locks, removes, stops and resumes the server, and resets; the pages are photographed
//! at 1920×1080 (the teacher's and the projector's) and at 390×844 (a student's and the
//! teacher's), and each photograph is checked: no name over another on the map, no control on the
//! projector, no sideways scrolling on a phone.
//! Without a browser the test skips loudly, unless `PIONEER_REQUIRE_BROWSER=1` (set by `.ci/run`)
//! makes that a failure.

use fantoccini::{Client, ClientBuilder, Locator};
use pioneer::model::fixed::ONE;
use pioneer::model::trace::{Choice, Learn};
use pioneer::scenario::Scenario;
use pioneer::serve::classroom::Classroom;
use pioneer::serve::classroom::Lever;
use pioneer::serve::limits::Limits;
use pioneer::serve::ws::{Clock, Game};
use pioneer::serve::Shared;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

const FLAGS: [&str; 11] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
    "--disable-quic",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1920,1080",
    "--force-device-scale-factor=1",
    "--hide-scrollbars",
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
    let mut seen = None;
    loop {
        if let Ok(e) = c.find(Locator::Css(css)).await {
            if let Ok(t) = e.text().await {
                if ok(&t) {
                    return t;
                }
                seen = Some(t);
            }
        }
        assert!(t0.elapsed() < Duration::from_secs(10), "`{css}` never became as expected: {seen:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Click an element as a person would: scrolled to the middle of the window first (the pages'
/// header stays at the top, over whatever WebDriver would scroll under it).
async fn click(c: &Client, css: &str) {
    c.execute(
        "document.querySelector(arguments[0]).scrollIntoView({block: 'center'})",
        vec![css.into()],
    )
    .await
    .expect(css);
    c.find(Locator::Css(css)).await.expect(css).click().await.expect("clicks");
}

async fn select(c: &Client, css: &str, value: &str) {
    c.find(Locator::Css(css))
        .await
        .expect(css)
        .select_by_value(value)
        .await
        .expect("selects");
}

async fn run_js(c: &Client, script: &str) -> serde_json::Value {
    c.execute(script, vec![]).await.expect(script)
}

/// Is the element displayed (WebDriver's own test: not hidden, not `display: none`)?
async fn displayed(c: &Client, css: &str) -> bool {
    match c.find(Locator::Css(css)).await {
        Ok(e) => e.is_displayed().await.unwrap_or(false),
        Err(_) => false,
    }
}

/// The page's students' names on the map: how many are shown, and every pair that overlaps or
/// name that leaves the map's canvas (computed from the boxes the browser laid out).
const LABELS: &str = "const map = document.getElementById('map').getBoundingClientRect();
const ls = [...document.querySelectorAll('#labels .label')].map((e) => [e.textContent, e.getBoundingClientRect()]);
const bad = [];
ls.forEach(([a, r], i) => {
  if (r.left < map.left - 0.5 || r.top < map.top - 0.5 || r.right > map.right + 0.5 || r.bottom > map.bottom + 0.5) bad.push(a + ' leaves the map');
  ls.slice(i + 1).forEach(([b, q]) => { if (r.left < q.right && q.left < r.right && r.top < q.bottom && q.top < r.bottom) bad.push(a + ' over ' + b); });
});
return { shown: ls.length, bad };";

/// Pixels in the map's colours of depth (web/teacher.js `depthColours`, rungs 0 to 4).
fn depth_pixels(img: &image::RgbImage) -> usize {
    const DEPTHS: [[u8; 3]; 5] = [
        [0xd9, 0xdd, 0xe3],
        [0xfd, 0xe0, 0xa6],
        [0xf9, 0xb5, 0x4c],
        [0xe8, 0x77, 0x2e],
        [0xc0, 0x39, 0x2b],
    ];
    img.pixels().filter(|p| DEPTHS.contains(&p.0)).count()
}

/// Sideways scrolling: the page's width beyond the window's.
const WIDER: &str = "return document.documentElement.scrollWidth - window.innerWidth;";

/// Resize the browser so that the page sees `w`×`h` (the window is the page plus what headless
/// chromium counts as its frame), and wait until the page has laid itself out again.
async fn window(c: &Client, w: u32, h: u32) {
    let inner = || async { run_js(c, "return [window.innerWidth, window.innerHeight];").await };
    c.set_window_size(w, h).await.expect("resizes");
    tokio::time::sleep(Duration::from_millis(100)).await;
    let seen = inner().await;
    let frame = |i: usize, want: u32| want + want.saturating_sub(seen[i].as_u64().unwrap_or(0) as u32);
    c.set_window_size(frame(0, w), frame(1, h)).await.expect("resizes");
    let t0 = Instant::now();
    while inner().await != serde_json::json!([w, h]) {
        assert!(
            t0.elapsed() < Duration::from_secs(5),
            "the page never became {w}×{h}: {}",
            inner().await
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    run_js(c, "window.scrollTo(0, 0);").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
}

/// Save a screenshot of the page's top under the test's scratch folder, and decode it.
async fn shoot(c: &Client, name: &str) -> image::RgbImage {
    run_js(c, "window.scrollTo(0, 0);").await;
    shoot_here(c, name).await
}

/// Save a screenshot of the page where it is scrolled to, and decode it.
async fn shoot_here(c: &Client, name: &str) -> image::RgbImage {
    tokio::time::sleep(Duration::from_millis(150)).await;
    let png = c.screenshot().await.expect("screenshot");
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::write(&path, &png).expect("saves the screenshot");
    eprintln!("screenshot: {}", path.display());
    image::load_from_memory(&png).expect("png").to_rgb8()
}

/// A student's browser joins with the code and a name; returns the unit's name (empty if refused).
async fn join(s: &Client, name: &str) {
    let code = s.find(Locator::Css("#code")).await.expect("code");
    code.clear().await.expect("clears");
    code.send_keys("abcd").await.expect("types");
    let field = s.find(Locator::Css("#name")).await.expect("name");
    field.clear().await.expect("clears");
    field.send_keys(name).await.expect("types");
    click(s, "#joinform button").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_class_plays_in_a_real_browser() {
    let Some(driver) = driver_or_skip() else { return };
    let sc = Scenario::load(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scenarios/classroom.toml"
    )))
    .expect("classroom");
    // Every browser of the test is on this machine, one address: its pages hold more connections
    // than one device of a class may.
    let limits = Limits {
        per_address: 64,
        ..Limits::for_class(36)
    };
    let shared: Arc<Shared> = Shared::with_limits(
        Game::new(
            Classroom::new(sc, 1, "ABCD".into()).expect("builds"),
            Clock {
                running: false,
                months_per_second: 10.0,
            },
            "teacher-secret",
        ),
        std::env::temp_dir().join(format!("pioneer-browser-{}-debrief", std::process::id())),
        limits,
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("binds");
    let addr = listener.local_addr().expect("addr");
    let base = format!("http://{addr}");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(pioneer::serve::run(listener, shared.clone(), async {
        let _ = stopped.await;
    }));
    // The address students type, as `pioneer serve` finds it (here, the loopback the test serves on).
    shared.game().join = vec![format!("{base}/")];

    let teacher = browser(&driver).await;
    window(&teacher, 1920, 1080).await;
    teacher
        .goto(&format!("{base}/teacher?token=teacher-secret"))
        .await
        .expect("teacher page");
    text_until(&teacher, "#code", |t| t == "ABCD").await;
    // The token went into the page's cookie: the address bar, projected, shows no secret.
    let at = teacher.current_url().await.expect("url");
    assert_eq!(at.path(), "/teacher", "{at}");
    assert!(!at.as_str().contains("teacher-secret"), "the address shows the token: {at}");

    // Three students join from their browsers; Ann's from the QR code's address, code filled in.
    let mut students = Vec::new();
    let mut units = Vec::new();
    for name in ["Ann", "Bo", "Cy"] {
        let s = browser(&driver).await;
        if name == "Ann" {
            s.goto(&format!("{base}/?code=abcd")).await.expect("student page");
            let code = s
                .find(Locator::Css("#code"))
                .await
                .expect("code")
                .prop("value")
                .await
                .expect("value");
            assert_eq!(code.as_deref(), Some("ABCD"), "the QR code's address fills the code in");
            s.find(Locator::Css("#name"))
                .await
                .expect("name")
                .send_keys(name)
                .await
                .expect("types");
            click(&s, "#joinform button").await;
        } else {
            s.goto(&base).await.expect("student page");
            join(&s, name).await;
        }
        units.push(text_until(&s, "#unit", |t| !t.is_empty()).await);
        students.push(s);
    }
    let mut distinct = units.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 3, "three units: {units:?}");
    text_until(&teacher, "#count", |t| t == "3 of 3 online").await;
    text_until(&teacher, "#students", |t| t.contains("Ann") && t.contains("Bo") && t.contains("Cy")).await;

    // Ann decides; the teacher steps three months.
    let ann = &students[0];
    select(ann, "#agenda", "yes").await;
    select(ann, "#design", "exemplar").await;
    select(ann, "#publicity-choice", "high").await;
    click(ann, "#apply").await;
    text_until(ann, "#note", |t| t.starts_with("decided")).await;
    for _ in 0..3 {
        click(&teacher, "#step").await;
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    text_until(&teacher, "#when", |t| t.contains("month 3 of 240")).await;
    text_until(ann, "#when", |t| t.contains("month 3 of 240")).await;
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

    // One button starts and pauses, and says which; the badge says the clock's state.
    text_until(&teacher, "#clock", |t| t.to_lowercase().contains("paused")).await;
    text_until(&teacher, "#toggle", |t| t.contains("Start")).await;
    click(&teacher, "#toggle").await;
    text_until(&teacher, "#clock", |t| t.to_lowercase().contains("running")).await;
    text_until(&teacher, "#toggle", |t| t.contains("Pause")).await;
    text_until(ann, "#clock", |t| t.to_lowercase().contains("running")).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    click(&teacher, "#toggle").await;
    text_until(&teacher, "#clock", |t| t.to_lowercase().contains("paused")).await;
    text_until(ann, "#clock", |t| t.to_lowercase().contains("paused")).await;
    let m = shared.game().class.month;
    assert!(m > 3, "months passed while running ({m})");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(shared.game().class.month, m, "paused");

    // The levers from the page: a signal, a pilot in units clicked on the map, a recognition now,
    // and a student moved to a unit clicked on the map.
    select(&teacher, "#signal-value", "0.8").await;
    click(&teacher, "#signal").await;
    text_until(&teacher, "#levers", |t| t.contains("upper signal set to 0.80")).await;
    text_until(&teacher, "#note", |t| t.starts_with("lever pulled")).await;
    select(&teacher, "#space-value", "0.9").await;
    click(&teacher, "#space").await;
    text_until(&teacher, "#levers", |t| t.contains("institutional space set to 0.90")).await;
    select(&teacher, "#mandate-depth", "2").await;
    click(&teacher, "#mandate").await;
    text_until(&teacher, "#levers", |t| {
        t.contains("a mandate: every unit to rung 2 within 36 months")
    })
    .await;
    // A click on the canvas where unit `i` is drawn (the page's own hit test finds it).
    let click_unit = |i: usize| {
        let script = format!(
            "const [x, y] = dots.find((d) => d[3] === {i}); const b = document.getElementById('map').getBoundingClientRect(); document.getElementById('map').dispatchEvent(new MouseEvent('click', {{clientX: b.left + x, clientY: b.top + y}}));"
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
    click(&teacher, "#students li[data-id=\"0\"] button.move").await;
    text_until(&teacher, "#note", |t| t.starts_with("moved")).await;
    click(&teacher, "#step").await;
    text_until(&teacher, "#when", |t| t.contains(&format!("month {} of", m + 1))).await;
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

    // A fuller class: 25 more students (joined on the server, without a page of their own), then
    // the clock at 50 months a second for a while, so that the map, the curve and the routes fill.
    {
        let mut g = shared.game();
        for (i, name) in [
            "Dana",
            "Eli",
            "Farid",
            "Gita",
            "Hugo",
            "Ines",
            "Jonas",
            "Kira",
            "Lev",
            "Mona",
            "Nico",
            "Olga",
            "Pavel",
            "Quinn",
            "Rosa",
            "Sami",
            "Tara",
            "Umar",
            "Vera",
            "Wen",
            "Xavier",
            "Yara",
            "Zoe",
            "Alexandria",
            "Maximilian",
        ]
        .iter()
        .enumerate()
        {
            g.class.join("ABCD", name, None, &format!("bulk-{i}")).expect("joins");
        }
    }
    let _ = shared.changed.send(());
    select(&teacher, "#speed", "50").await;
    text_until(&teacher, "#facts", |t| t.contains("50 months a second")).await;
    let m0 = shared.game().class.month;
    click(&teacher, "#toggle").await;
    // About 60 months (counted on the server, so a slow machine runs as many), then pause; on a
    // machine so loaded that the click comes after month 240, the class is over, which the rest
    // of the test takes as well.
    let t0 = Instant::now();
    while shared.game().class.month < m0 + 60 && t0.elapsed() < Duration::from_secs(20) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    click(&teacher, "#toggle").await;
    text_until(&teacher, "#clock", |t| {
        let t = t.to_lowercase();
        t.contains("paused") || t.contains("the end")
    })
    .await;
    let m = shared.game().class.month;
    text_until(&teacher, "#when", |t| t.contains(&format!("month {m} of"))).await;
    text_until(&teacher, "#count", |t| t.ends_with("of 28 online")).await;
    // Messages fade: the "moved" of a while ago is gone.
    tokio::time::sleep(Duration::from_millis(4700)).await;
    assert!(!displayed(&teacher, "#note").await, "the last message has faded");

    // The teacher's page at 1920×1080: the units in their depth colours, the students' names on
    // the map with none over another and none cut, the clock's state and the year in the header.
    let img = shoot(&teacher, "teacher-1080.png").await;
    assert_eq!((img.width(), img.height()), (1920, 1080));
    let coloured = depth_pixels(&img);
    assert!(coloured > 20_000, "the units drawn in their depths' colours: {coloured} pixels");
    let labels = run_js(&teacher, LABELS).await;
    eprintln!("teacher at 1920×1080, the map's names: {labels}");
    assert_eq!(labels["bad"], serde_json::json!([]), "names on the map overlap or are cut");
    assert!(labels["shown"].as_u64().expect("a count") >= 14, "most names shown: {labels}");
    assert_eq!(run_js(&teacher, WIDER).await, serde_json::json!(0), "no sideways scrolling");
    for css in ["#clock", "#when", "#code", "#address"] {
        assert!(displayed(&teacher, css).await, "{css} shown");
    }

    // The teacher's page on a phone: one column, no sideways scrolling, still no name over another.
    window(&teacher, 390, 844).await;
    let _ = shoot(&teacher, "teacher-phone.png").await;
    assert_eq!(
        run_js(&teacher, WIDER).await,
        serde_json::json!(0),
        "no sideways scrolling on a phone"
    );
    let labels = run_js(&teacher, LABELS).await;
    eprintln!("teacher at 390×844, the map's names: {labels}");
    assert_eq!(labels["bad"], serde_json::json!([]), "names on the map overlap or are cut");
    window(&teacher, 1920, 1080).await;

    // Ann's page on a phone: every number with its line, each source in sight once, the year and
    // the clock's state at the top.
    window(ann, 390, 844).await;
    text_until(ann, "#when", |t| t.contains(&format!("month {m} of 240"))).await;
    let _ = shoot(ann, "student-phone.png").await;
    assert_eq!(run_js(ann, WIDER).await, serde_json::json!(0), "no sideways scrolling on a phone");
    let why = run_js(
        ann,
        "return [...document.querySelectorAll('.measure .m-why')].map((p) => p.textContent.length);",
    )
    .await;
    assert_eq!(why.as_array().map(Vec::len), Some(9), "a line for each number: {why}");
    let sources = run_js(
        ann,
        "return [...document.querySelectorAll('#sources li b')].map((b) => b.textContent);",
    )
    .await;
    let mut seen: Vec<&str> = sources.as_array().expect("a list").iter().filter_map(|v| v.as_str()).collect();
    let all = seen.len();
    seen.sort_unstable();
    seen.dedup();
    assert_eq!(seen.len(), all, "each source in sight once: {sources}");
    assert!(
        displayed(ann, "#clock").await && displayed(ann, "#when").await,
        "clock and year shown"
    );

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
    run_js(
        &teacher,
        "[...document.querySelectorAll('h2')].find((h) => h.textContent === 'The class').scrollIntoView()",
    )
    .await;
    let _ = shoot_here(&teacher, "report.png").await;

    // The projector's view, at 1920×1080: the class without a control.
    teacher.goto(&format!("{base}/projector")).await.expect("projector");
    text_until(&teacher, "#code", |t| t == "ABCD").await;
    text_until(&teacher, "#when", |t| t.contains(&format!("month {m} of"))).await;
    let img = shoot(&teacher, "projector-1080.png").await;
    assert_eq!((img.width(), img.height()), (1920, 1080));
    let coloured = depth_pixels(&img);
    assert!(coloured > 20_000, "the map is drawn: {coloured} pixels in the depths' colours");
    let controls = run_js(
        &teacher,
        "return document.querySelectorAll('button, select, input, dialog, a[href]').length;",
    )
    .await;
    assert_eq!(controls, serde_json::json!(0), "no control on the projector");
    let labels = run_js(&teacher, LABELS).await;
    eprintln!("projector, the map's names: {labels}");
    assert_eq!(labels["bad"], serde_json::json!([]), "names on the map overlap or are cut");
    assert_eq!(run_js(&teacher, WIDER).await, serde_json::json!(0), "no sideways scrolling");
    for css in [
        "#clock",
        "#when",
        "#code",
        "#address",
        "#qr",
        "#students",
        "#board",
        "#events",
        "#curve",
        "#map",
    ] {
        assert!(displayed(&teacher, css).await, "{css} shown on the projector");
    }
    let qr = run_js(
        &teacher,
        "const q = document.getElementById('qr'); return q.complete && q.naturalWidth > 0;",
    )
    .await;
    assert_eq!(qr, serde_json::json!(true), "the QR code is drawn");
    let fits = run_js(&teacher, "return document.documentElement.scrollHeight - window.innerHeight;").await;
    eprintln!("projector: {fits} px below the screen");
    assert!(
        fits.as_i64().is_some_and(|f| f <= 0),
        "the projector's page is one screen: {fits} px below it"
    );

    // Lock: a join is refused while locked, and accepted after unlock.
    teacher.goto(&format!("{base}/teacher")).await.expect("teacher page");
    text_until(&teacher, "#code", |t| t == "ABCD").await;
    text_until(&teacher, "#lock-state", |t| t.contains("open")).await;
    click(&teacher, "#lock").await;
    text_until(&teacher, "#lock-state", |t| t.contains("locked")).await;
    text_until(&teacher, "#lock", |t| t.contains("Unlock")).await;
    let dee = browser(&driver).await;
    window(&dee, 390, 844).await;
    dee.goto(&base).await.expect("student page");
    join(&dee, "Dee").await;
    text_until(&dee, "#note", |t| !t.is_empty()).await;
    assert!(displayed(&dee, ".note.error").await, "the refusal is shown as one");
    assert!(displayed(&dee, "#join").await, "still at the join form");
    assert!(shared.game().class.students.iter().all(|s| s.name != "Dee"), "no join while locked");
    click(&teacher, "#lock").await;
    text_until(&teacher, "#lock-state", |t| t.contains("open")).await;
    join(&dee, "Dee").await;
    let dees = text_until(&dee, "#unit", |t| !t.is_empty()).await;
    let (dee_id, dee_unit) = {
        let g = shared.game();
        let s = g.class.students.iter().find(|s| s.name == "Dee").expect("Dee joined after unlock");
        (s.id, s.unit)
    };
    assert_eq!(shared.game().class.model.world.names[dee_unit], dees);

    // Remove: two clicks on Dee's row; the unit is free, and Dee's page is back at the join form.
    let row = format!("#students li[data-id=\"{dee_id}\"] button.remove");
    click(&teacher, &row).await;
    text_until(&teacher, &row, |t| t.contains("Sure")).await;
    click(&teacher, &row).await;
    text_until(&dee, "#join-message", |t| t.contains("removed")).await;
    assert!(
        displayed(&dee, "#join").await && !displayed(&dee, "#panel").await,
        "Dee's page shows the join form"
    );
    let kept = run_js(&dee, "return localStorage.getItem('pioneer-token');").await;
    assert_eq!(kept, serde_json::Value::Null, "the token is forgotten");
    {
        let g = shared.game();
        assert!(
            g.class.students.iter().all(|s| s.name != "Dee" && s.unit != dee_unit),
            "the unit is free"
        );
    }
    let _ = dee.close().await;

    // The server stops, as Ctrl-C stops it (the class saved), and starts again as `--resume`
    // starts it, at the same address: the pages say the server stopped, then come back by
    // themselves, the teacher's by its cookie and each student's on their unit by their token.
    let (month, ann_unit) = {
        let g = shared.game();
        let s = g.class.students.iter().find(|s| s.name == "Ann").expect("Ann");
        (g.class.month, g.class.model.world.names[s.unit].clone())
    };
    let _ = stop.send(());
    server.await.expect("the server's task").expect("it served");
    assert!(shared.save_now().is_ok(), "the class is saved");
    text_until(ann, "#status", |t| t.contains("the server stopped")).await;
    text_until(&teacher, "#status", |t| t.contains("the server stopped")).await;
    let mut game = pioneer::serve::save::resume(&shared.out).expect("the saved class resumes");
    game.join = vec![format!("{base}/")];
    let shared = Shared::with_limits(game, shared.out.clone(), shared.limits.clone());
    let listener = tokio::net::TcpListener::bind(addr).await.expect("binds the same address again");
    tokio::spawn(pioneer::serve::run(listener, shared.clone(), std::future::pending()));
    text_until(ann, "#status", |t| t.starts_with("joined as Ann")).await;
    text_until(ann, "#unit", |t| t == ann_unit).await;
    text_until(ann, "#when", |t| t.contains(&format!("month {month} of 240"))).await;
    text_until(&teacher, "#status", |t| t.starts_with("seed")).await;
    text_until(&teacher, "#code", |t| t == "ABCD").await;
    text_until(&teacher, "#when", |t| t.contains(&format!("month {month} of"))).await;
    text_until(&teacher, "#students", |t| t.contains("Ann") && !t.contains("Dee")).await;
    assert_eq!(shared.game().class.students.len(), 28, "the same class, Dee still removed");

    // Reset asks first: cancel does nothing; keep keeps the students; the archived log is named.
    let before: Vec<(String, usize)> = shared.game().class.students.iter().map(|s| (s.name.clone(), s.unit)).collect();
    let (month, seed) = {
        let g = shared.game();
        (g.class.month, g.class.seed)
    };
    click(&teacher, "#reset").await;
    assert!(displayed(&teacher, "#reset-dialog").await, "the reset asks first");
    click(&teacher, "#reset-cancel").await;
    assert!(!displayed(&teacher, "#reset-dialog").await, "cancelled");
    tokio::time::sleep(Duration::from_millis(400)).await;
    {
        let g = shared.game();
        assert_eq!((g.class.month, g.class.seed), (month, seed), "cancel does nothing");
    }
    click(&teacher, "#reset").await;
    click(&teacher, "#reset-keep").await;
    text_until(&teacher, "#archived", |t| t.contains("decisions-before-reset-1.csv")).await;
    text_until(&teacher, "#note", |t| t.contains("decisions-before-reset-1.csv")).await;
    text_until(&teacher, "#when", |t| t.contains("month 0 of")).await;
    {
        let g = shared.game();
        assert_eq!(g.class.month, 0, "reset");
        assert_ne!(g.class.seed, seed, "a new seed");
        let after: Vec<(String, usize)> = g.class.students.iter().map(|s| (s.name.clone(), s.unit)).collect();
        assert_eq!(after, before, "keep keeps the students on their units");
    }
    text_until(ann, "#when", |t| t.contains("month 0 of")).await;
    for s in students {
        let _ = s.close().await;
    }
    let _ = teacher.close().await;
}
