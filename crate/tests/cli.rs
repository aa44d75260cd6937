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

#[test]
fn play_with_an_unknown_world_or_policy_fails_clearly() {
    let output = Command::new(env!("CARGO_BIN_EXE_gatito")).args(["play", "pong-ish"]).output().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("unknown world 'pong-ish'") && stderr.contains("cartpole_swingup"), "{stderr}");

    let output = Command::new(env!("CARGO_BIN_EXE_gatito")).args(["play", "reacher", "--policy", "psychic"]).output();
    let stderr = String::from_utf8_lossy(&output.unwrap().stderr).into_owned();
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
