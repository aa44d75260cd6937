//! What the page offers: the worlds with their reference scores, missions for the grid room,
//! and sample scenes to caption.

use super::{attach, to_js};
use crate::envs::captions::scenes::Scene;
use crate::envs::grid::{Mission, MissionSet};
use crate::envs::rollout::{self, Actor, Evaluation, Expert, Random};
use crate::envs::{self, World};
use rand::SeedableRng;
use rand_pcg::Pcg64Mcg;
use serde::Serialize;
use wasm_bindgen::prelude::*;

/// The specs of every world, in the order `envs::all` lists them.
#[wasm_bindgen]
pub fn worlds() -> Result<JsValue, JsError> {
    to_js(&envs::all().iter().map(|w| w.spec()).collect::<Vec<_>>())
}

/// The world called `name`, or an error that lists the worlds there are.
pub(crate) fn find_world(name: &str) -> Result<Box<dyn World>, JsError> {
    envs::make(name).ok_or_else(|| {
        let names: Vec<&str> = envs::all().iter().map(|w| w.spec().name).collect();
        JsError::new(&format!("there is no world called '{name}'; the worlds are: {}", names.join(", ")))
    })
}

#[derive(Serialize)]
struct References {
    episodes: u32,
    seed: u32,
    expert: Evaluation,
    random: Evaluation,
}

/// The expert's and random play's scores over `episodes` episodes seeded from `seed` on,
/// played exactly as the command line's `gatito scores` plays them.
#[wasm_bindgen(js_name = referenceScores)]
pub fn reference_scores(world: &str, episodes: u32, seed: u32) -> Result<JsValue, JsError> {
    let mut world = find_world(world)?;
    let mut evaluate = |actor: &mut dyn Actor| {
        rollout::evaluate(world.as_mut(), actor, episodes, u64::from(seed)).map_err(|e| JsError::new(&e.to_string()))
    };
    let (expert, random) = (evaluate(&mut Expert)?, evaluate(&mut Random::new())?);
    to_js(&References { episodes, seed, expert, random })
}

/// The mean and standard deviation of scores, for reference scores gathered an episode at a time.
#[wasm_bindgen]
pub fn summarize(scores: Vec<f32>) -> Result<JsValue, JsError> {
    to_js(&Evaluation::of(scores))
}

#[derive(Clone, Serialize)]
pub(crate) struct MissionInfo {
    text: String,
    /// Whether it uses a (verb, object) pair training never shows.
    held_out: bool,
}

impl From<&Mission> for MissionInfo {
    fn from(mission: &Mission) -> Self {
        MissionInfo { text: mission.to_string(), held_out: mission.is_held_out() }
    }
}

/// Up to `count` different missions to pick from, drawn from seeds `seed..`: every third one
/// held out, the others from training.
#[wasm_bindgen(js_name = exampleMissions)]
pub fn example_missions(count: u32, seed: u32) -> Result<JsValue, JsError> {
    let mut missions: Vec<Mission> = Vec::new();
    // Nearby seeds can draw the same mission; a bounded number of draws finds enough others.
    for draw in 0..count.saturating_mul(DRAWS_PER_EXAMPLE) {
        if missions.len() as u32 == count {
            break;
        }
        let set = if missions.len() % 3 == 2 { MissionSet::HeldOut } else { MissionSet::Train };
        let mission = Mission::sample(set, &mut Pcg64Mcg::seed_from_u64(u64::from(seed) + u64::from(draw)));
        if !missions.contains(&mission) {
            missions.push(mission);
        }
    }
    to_js(&missions.iter().map(MissionInfo::from).collect::<Vec<_>>())
}

/// Draws allowed per example mission before `example_missions` settles for fewer.
const DRAWS_PER_EXAMPLE: u32 = 20;

#[derive(Serialize)]
struct QuestionInfo {
    question: String,
    answer: String,
}

#[derive(Serialize)]
struct SceneInfo {
    /// What the generator knows the scene shows; the model never sees it.
    caption: String,
    questions: Vec<QuestionInfo>,
}

/// The synthetic scene of `seed` as a PNG (attached as `png`), with its true caption and
/// questions, for the page's sample images.
#[wasm_bindgen(js_name = sampleScene)]
pub fn sample_scene(seed: u32) -> Result<JsValue, JsError> {
    let scene = Scene::generate(u64::from(seed));
    let mut png = std::io::Cursor::new(Vec::new());
    scene
        .image()
        .write_to(&mut png, image::ImageFormat::Png)
        .map_err(|e| JsError::new(&format!("encoding the scene: {e}")))?;
    let questions =
        scene.questions().into_iter().map(|q| QuestionInfo { question: q.text, answer: q.answer }).collect();
    let js = to_js(&SceneInfo { caption: scene.caption(), questions })?;
    attach(&js, "png", &js_sys::Uint8Array::from(&png.get_ref()[..]))?;
    Ok(js)
}
