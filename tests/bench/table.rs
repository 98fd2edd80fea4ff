//! Printing: durations and sizes formatted for people, and the two tables of one run (Weft
//! beside Dagster on the numbers location, then the numbers location per guest language).

use crate::dagster::Dagster;
use crate::dagster_step::DagsterStep;
use crate::engine::JobTimes;
use crate::languages::{Lang, Language, NATIVE_STEP_TARGET_MS, PYTHON_STEP_TARGET_MS};

/// `1.23 ms`, `45.6 µs`, `78 ns`, `3.21 s`.
pub fn fmt_ms(x: f64) -> String {
    if !x.is_finite() {
        "—".into()
    } else if x >= 1000.0 {
        format!("{:.2} s", x / 1e3)
    } else if x >= 1.0 {
        format!("{x:.2} ms")
    } else if x >= 1e-3 {
        format!("{:.1} µs", x * 1e3)
    } else {
        format!("{:.0} ns", x * 1e6)
    }
}

/// `331 KiB`, `17.7 MiB`.
fn fmt_bytes(n: u64) -> String {
    let n = n as f64;
    if n >= 1024.0 * 1024.0 {
        format!("{:.1} MiB", n / (1024.0 * 1024.0))
    } else {
        format!("{:.0} KiB", n / 1024.0)
    }
}

fn ratio(dagster: Option<f64>, weft: f64) -> String {
    match dagster {
        Some(d) if weft > 0.0 => format!("{:.0}×", d / weft),
        _ => String::new(),
    }
}

/// Rows of cells: the first column left-aligned, the others right-aligned.
struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
    /// Section titles run across the columns instead of widening the first one.
    spanning_sections: bool,
}

impl Table {
    fn new(header: &[&str]) -> Self {
        Table {
            header: header.iter().map(|s| (*s).to_owned()).collect(),
            rows: Vec::new(),
            spanning_sections: false,
        }
    }

    fn section(&mut self, title: &str) {
        if self.spanning_sections {
            self.rows.push(vec![title.to_owned()]);
            return;
        }
        let mut row = vec![String::new(); self.header.len()];
        row[0] = title.to_owned();
        self.rows.push(row);
    }

    /// A row of the Weft-beside-Dagster table.
    fn row(&mut self, what: &str, weft: f64, dagster: Option<f64>, dagster_note: &str) {
        let d = match dagster {
            Some(d) => format!("{}{dagster_note}", fmt_ms(d)),
            None => dagster_note.to_owned(),
        };
        self.rows.push(vec![
            format!("  {what}"),
            fmt_ms(weft),
            d,
            ratio(dagster, weft),
        ]);
    }

    fn cells(&mut self, what: &str, cells: impl IntoIterator<Item = String>) {
        let mut row = vec![format!("  {what}")];
        row.extend(cells);
        row.resize(self.header.len(), String::new());
        self.rows.push(row);
    }

    fn print(&self) {
        let columns = self.header.len();
        let widths: Vec<usize> = (0..columns)
            .map(|i| {
                self.rows
                    .iter()
                    .chain([&self.header])
                    .filter(|r| r.len() == columns)
                    .map(|r| r[i].chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let line = |r: &[String]| {
            if r.len() < columns {
                println!("{}", r.concat());
                return;
            }
            let pad = |s: &str, w: usize| " ".repeat(w.saturating_sub(s.chars().count()));
            let mut text = format!("{}{}", r[0], pad(&r[0], widths[0]));
            for i in 1..columns {
                text.push_str(&format!("  {}{}", pad(&r[i], widths[i]), r[i]));
            }
            println!("{text}");
        };
        line(&self.header);
        println!(
            "{}",
            "-".repeat(widths.iter().sum::<usize>() + 2 * (columns - 1))
        );
        for r in &self.rows {
            line(r);
        }
    }
}

/// The figures of the first table.
pub struct Figures<'a> {
    pub runs: usize,
    pub dagster_runs: usize,
    pub cores: usize,
    pub in_process: JobTimes,
    pub parallel: JobTimes,
    pub in_process_fs: JobTimes,
    pub native_process_ns: f64,
    pub native_wide_ns: f64,
    pub weft_run_warm: f64,
    pub weft_run_cold: f64,
    pub dagster: Option<&'a Dagster>,
    /// Why there are no Dagster figures, when there are none.
    pub dagster_missing: &'a str,
}

/// Weft beside Dagster: the engine per executor and I/O manager, plain Rust, whole processes.
pub fn print_main(f: &Figures) {
    let n = f.runs;
    let dagster = f.dagster;
    let missing = f.dagster_missing;
    let mut t = Table::new(&["", "Weft", "Dagster", "Dagster ÷ Weft"]);
    let dj = dagster.map(|d| d.in_process);
    let note = |present: &str| {
        if dagster.is_some() {
            present.to_owned()
        } else {
            missing.to_owned()
        }
    };
    for (title, times) in [
        (
            "in-process executor, in-memory I/O (Dagster: execute_in_process)",
            f.in_process,
        ),
        (
            &*format!("parallel executor ({} at once), in-memory I/O", f.cores),
            f.parallel,
        ),
        (
            "in-process executor, filesystem I/O manager (weft run's default)",
            f.in_process_fs,
        ),
    ] {
        t.section(title);
        t.row(
            "process_numbers (6 steps)",
            times.process_numbers,
            dj.map(|d| d.process_numbers),
            &note(""),
        );
        t.row(
            "wide_job (102 steps)",
            times.wide_job,
            dj.map(|d| d.wide_job),
            &note(""),
        );
        t.row(
            "per-step overhead",
            times.per_step(),
            dj.map(JobTimes::per_step),
            &note(""),
        );
    }
    t.section("plain Rust (the same work as native calls), per call");
    t.row(
        "process_numbers pipeline",
        f.native_process_ns / 1e6,
        None,
        "",
    );
    t.row("wide_job pipeline", f.native_wide_ns / 1e6, None, "");
    t.section("whole process, process_numbers (weft run | dagster job execute, in_process)");
    let cli = dagster.and_then(|d| d.cli_ms);
    let cli_note = match dagster {
        Some(d) if d.cli_ms.is_some() => format!(" ({} runs)", d.cli_runs),
        Some(_) => "dagster job execute: failed".into(),
        None => missing.into(),
    };
    t.row("warm precompile cache", f.weft_run_warm, cli, &cli_note);
    t.row(
        "never-seen component (cold cache)",
        f.weft_run_cold,
        None,
        "",
    );

    println!();
    match dagster {
        Some(d) => println!(
            "Weft vs Dagster {} — medians of {n} runs (Dagster: {} runs); per-step = (wide_job - process_numbers) / 96",
            d.version, f.dagster_runs
        ),
        None => {
            println!("Weft — medians of {n} runs; per-step = (wide_job - process_numbers) / 96")
        }
    }
    t.print();
}

/// The numbers location per guest language, with the targets and Dagster's process_numbers.
pub fn print_languages(
    languages: &[Language],
    runs: usize,
    dagster: Option<&Dagster>,
    dagster_missing: &str,
) {
    let mut header = vec![""];
    header.extend(languages.iter().map(|l| l.lang.name()));
    header.extend(["target", "Dagster"]);
    let mut t = Table::new(&header);
    t.spanning_sections = true;
    let each = |cell: &dyn Fn(&crate::languages::Figures, Lang) -> String| -> Vec<String> {
        languages
            .iter()
            .map(|l| match &l.outcome {
                Ok(figures) => cell(figures, l.lang),
                Err(_) => "—".into(),
            })
            .collect()
    };
    let with = |mut cells: Vec<String>, target: &str, dagster: String| {
        cells.push(target.to_owned());
        cells.push(dagster);
        cells
    };

    t.section("component (examples/numbers*)");
    t.cells(
        "built by",
        languages.iter().map(|l| match &l.outcome {
            Ok(figures) => figures.built_by.clone(),
            Err(_) => "skipped (see below)".into(),
        }),
    );
    t.cells("size", each(&|x, _| fmt_bytes(x.size_bytes)));
    t.section("WasmHost::load (compile or map, then the guest's definitions)");
    t.cells(
        "compile once per digest (empty cache)",
        each(&|x, _| fmt_ms(x.cold_load_ms)),
    );
    t.cells(
        "load from the precompiled cache (warm)",
        each(&|x, _| fmt_ms(x.warm_load_ms)),
    );
    let samples = languages
        .iter()
        .find_map(|l| l.outcome.as_ref().ok().map(|x| x.step_samples))
        .unwrap_or(0);
    t.section(&format!(
        "one step, warm: fresh instance from the pre-instance + generate_numbers (median of {samples})"
    ));
    let target = format!(
        "rust, go ≤ {:.0} µs; python ≤ {:.0} ms",
        NATIVE_STEP_TARGET_MS * 1e3,
        PYTHON_STEP_TARGET_MS
    );
    t.cells(
        "instantiate + one op call",
        with(
            each(&|x, lang| {
                let mark = if x.step_ms <= lang.step_target_ms() {
                    "✓"
                } else {
                    "✗"
                };
                format!("{} {mark}", fmt_ms(x.step_ms))
            }),
            &target,
            String::new(),
        ),
    );
    if languages
        .iter()
        .any(|l| matches!(&l.outcome, Ok(x) if x.step_without_preinit_ms.is_some()))
    {
        t.cells(
            "  the same, built with --no-pre-init (Go's start-up in every instance)",
            with(
                each(&|x, _| x.step_without_preinit_ms.map_or("—".into(), fmt_ms)),
                "",
                String::new(),
            ),
        );
    }

    let in_process = dagster.map(|d| d.in_process.process_numbers);
    let cli = dagster.and_then(|d| d.cli_ms);
    let shown = |d: Option<f64>, what: &str| match (dagster, d) {
        (_, Some(d)) => format!("{} ({what})", fmt_ms(d)),
        (Some(_), None) => format!("{what}: failed"),
        (None, None) => dagster_missing.to_owned(),
    };
    t.section("process_numbers (6 steps), whole run");
    t.cells(
        "engine: in-process executor, in-memory I/O",
        with(
            each(&|x, _| fmt_ms(x.engine_process_numbers_ms)),
            "",
            shown(in_process, "execute_in_process"),
        ),
    );
    t.cells(
        "  Dagster ÷ Weft",
        each(&|x, _| ratio(in_process, x.engine_process_numbers_ms)),
    );
    t.cells(
        "weft run, warm cache (whole process)",
        with(
            each(&|x, _| fmt_ms(x.weft_run_warm_ms)),
            "",
            shown(cli, "dagster job execute"),
        ),
    );
    t.cells(
        "  Dagster ÷ Weft",
        each(&|x, _| ratio(cli, x.weft_run_warm_ms)),
    );

    println!();
    println!(
        "Per language: the numbers code location — medians of {runs} runs; ✓/✗ against the target"
    );
    t.print();
    for l in languages {
        if let Err(reason) = &l.outcome {
            println!("{}: skipped: {reason}", l.lang.name());
        }
    }
}

/// The control-plane table: `weft serve`'s latencies against issue 4's targets, and a step
/// in a fresh process beside Dagster's `execute_step` (`step`, or why not: `step_missing`).
pub fn print_control(
    c: &crate::control::ControlTimes,
    runs: usize,
    step: Option<&DagsterStep>,
    step_missing: &str,
) {
    println!();
    match step {
        Some(d) => println!(
            "Control plane: weft serve on loopback, SQLite — medians of {runs} \
             (Dagster {}: {} runs); ✓/✗ against the target",
            d.version, d.runs
        ),
        None => println!(
            "Control plane: weft serve on loopback, SQLite — medians of {runs}; \
             ✓/✗ against the target"
        ),
    }
    let mut t = Table::new(&["", "Weft", "target", "Dagster", "Dagster ÷ Weft"]);
    let check = |x: f64, target: f64| if x <= target { "✓" } else { "✗" };
    t.section("upload → runnable (numbers component, nothing restarted)");
    t.cells(
        "never-seen version (validate, compile, store, make current)",
        [
            format!("{} {}", fmt_ms(c.upload_new), check(c.upload_new, 1000.0)),
            "≤ 1 s".into(),
            "edit workspace.yaml, restart webserver + daemon".into(),
        ],
    );
    t.cells(
        "version in the precompile cache",
        [
            format!(
                "{} {}",
                fmt_ms(c.upload_cached),
                check(c.upload_cached, 1000.0)
            ),
            "≤ 1 s".into(),
            String::new(),
        ],
    );
    t.section("API launch → run succeeded (process_numbers, polled)");
    t.cells(
        "POST /api/runs until GET /api/runs/{id} says SUCCESS",
        [
            format!(
                "{} {}",
                fmt_ms(c.launch_to_success),
                check(c.launch_to_success, 50.0)
            ),
            "≤ 50 ms".into(),
            String::new(),
        ],
    );
    t.cells(
        "the same, the run in a `weft execute-run` process of its own",
        [
            fmt_ms(c.launch_to_success_process),
            String::new(),
            "a run worker process (python) per run".into(),
        ],
    );
    t.section("a step in a fresh process (the multiprocess executor's step, a step pod's work)");
    t.cells(
        "`weft step RUN generate_numbers`: instance, run, version by digest, op, answer",
        [
            format!("{} {}", fmt_ms(c.step_process), check(c.step_process, 20.0)),
            "≤ 20 ms".into(),
            match step {
                Some(d) => format!("{} (dagster api execute_step)", fmt_ms(d.execute_step_ms)),
                None => step_missing.to_owned(),
            },
            ratio(step.map(|d| d.execute_step_ms), c.step_process),
        ],
    );
    if let Some(image) = c.step_process_image {
        t.cells(
            "  the same with the image's static binary (--image-binary)",
            [
                format!("{} {}", fmt_ms(image), check(image, 20.0)),
                "≤ 20 ms".into(),
                String::new(),
                ratio(step.map(|d| d.execute_step_ms), image),
            ],
        );
    }
    if let Some(d) = step {
        t.cells(
            "  context: the bare interpreter's start, `python3 -c pass`",
            [String::new(), String::new(), fmt_ms(d.python_startup_ms)],
        );
    }
    t.print();
}
