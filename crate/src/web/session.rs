//! A world played live in the page: stepped by the model, its expert, random play or a
//! person, pushed by the visitor, drawn, and shown as tokens.

use super::catalog::{MissionInfo, find_world};
use super::model::{self, Model};
use super::report::{self, Source, ValueToken};
use super::tokens::{Tokens, sequence_to_js};
use super::{attach, to_js};
use crate::agent::{Agent, Backend, Decision};
use crate::envs::grid::{Grid, Mission, MissionSet};
use crate::envs::rollout::{random_action, random_policy_rng};
use crate::envs::{ActionSpec, World, WorldSpec};
use crate::requests::Actor;
use crate::tokens::{Action, Observation};
use rand_pcg::Pcg64Mcg;
use serde::Serialize;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

/// How the actor picked the action, for the page to draw: the expert and a person put all
/// the probability on one action, random play spreads it evenly, the model decodes it.
#[derive(Clone, Copy, Serialize)]
#[serde(rename_all = "snake_case")]
enum Choice {
    OneHot,
    Uniform,
    Model,
}

#[derive(Serialize)]
struct ActionReport {
    /// The discrete action's label.
    #[serde(skip_serializing_if = "Option::is_none")]
    label: Option<&'static str>,
    /// Each action value with its bin and what the bin decodes back to.
    values: Vec<ValueToken>,
    choice: Choice,
    /// For discrete actions, the probability the actor gave each one.
    #[serde(skip_serializing_if = "Option::is_none")]
    probabilities: Option<Vec<f32>>,
    /// For the model's continuous actions, the probability it gave each chosen bin.
    #[serde(skip_serializing_if = "Option::is_none")]
    confidence: Option<Vec<f32>>,
    /// Where the model decided.
    #[serde(skip_serializing_if = "Option::is_none")]
    backend: Option<Backend>,
}

#[derive(Serialize)]
struct StepReport {
    /// Steps taken so far, this one included.
    step: u32,
    reward: f32,
    score: f32,
    done: bool,
    action: ActionReport,
}

#[derive(Serialize)]
struct SessionInfo {
    spec: WorldSpec,
    seed: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    mission: Option<MissionInfo>,
}

/// One episode of one world, played step by step.
#[wasm_bindgen]
pub struct Session {
    world: Box<dyn World>,
    spec: WorldSpec,
    seed: u32,
    /// Random play's generator, seeded as `rollout` seeds it, so the page plays the same episodes.
    rng: Pcg64Mcg,
    steps: u32,
    /// The last timestep: what the agent saw and what it did (none before the first step).
    last: Option<(Observation, Action)>,
    /// The typed mission, for a grid room furnished for one.
    mission: Option<MissionInfo>,
    /// The model's context for this episode, made at its first step; shared with the
    /// decision in flight.
    agent: Option<Rc<RefCell<Agent>>>,
    /// The model's decision and what it saw, between `decide` and `applyDecision`.
    decided: Rc<RefCell<Option<(Observation, Decision)>>>,
}

/// What the page hears when the model has decided: where, and whether the GPU was given up.
#[derive(Serialize)]
struct Decided {
    backend: Backend,
    #[serde(skip_serializing_if = "Option::is_none")]
    fell_back: Option<String>,
}

#[wasm_bindgen]
impl Session {
    /// The episode of `world` from `seed`.
    #[wasm_bindgen(constructor)]
    pub fn new(world: &str, seed: u32) -> Result<Session, JsError> {
        let mut world = find_world(world)?;
        world.reset(u64::from(seed));
        Ok(Session::of(world, seed, None))
    }

    /// The grid room furnished from `seed` for a typed mission, read as the grammar reads it.
    #[wasm_bindgen(js_name = withMission)]
    pub fn with_mission(text: &str, seed: u32) -> Result<Session, JsError> {
        let mission = Mission::read(text)?;
        let info = MissionInfo::from(&mission);
        let mut grid = Grid::new(if mission.is_held_out() { MissionSet::HeldOut } else { MissionSet::Train });
        grid.reset_with_mission(mission, u64::from(seed));
        Ok(Session::of(Box::new(grid), seed, Some(info)))
    }

    /// The world's spec, the seed and the mission, if one was typed.
    pub fn info(&self) -> Result<JsValue, JsError> {
        to_js(&SessionInfo { spec: self.spec.clone(), seed: self.seed, mission: self.mission.clone() })
    }

    /// Whether the episode is over: the world says so or the step cap is reached.
    #[wasm_bindgen(getter)]
    pub fn done(&self) -> bool {
        self.world.done() || self.steps >= self.spec.max_steps
    }

    #[wasm_bindgen(getter)]
    pub fn score(&self) -> f32 {
        self.world.score()
    }

    /// Takes one step with the actor the page names (see [`Actor`]) and reports it.
    pub fn step(&mut self, actor: JsValue) -> Result<JsValue, JsError> {
        let actor: Actor = serde_wasm_bindgen::from_value(actor)
            .map_err(|e| JsError::new(&format!("the actor must be expert, random or chosen: {e}")))?;
        if self.done() {
            return Err(JsError::new("this episode is over; start a new one"));
        }
        let (action, choice) = match actor {
            Actor::Expert => (self.world.expert(), Choice::OneHot),
            Actor::Random => (random_action(&self.spec.action, &mut self.rng), Choice::Uniform),
            Actor::Chosen { action } if self.spec.action.accepts(&action) => (action, Choice::OneHot),
            Actor::Chosen { action } => {
                return Err(JsError::new(&format!(
                    "{action:?} does not fit {}: {}",
                    self.spec.name,
                    describe_actions(&self.spec.action)
                )));
            }
        };
        let report = self.report_action(&action, choice, None)?;
        self.take(self.world.observe(), action, report)
    }

    /// The model decides the next action: it sees this episode's observations since it took
    /// over, and decodes the action token by token, on the model's backend. Resolves with
    /// `{backend, fell_back?}`; `applyDecision` then takes the step. Two calls, because the
    /// decision may wait on the GPU while the world must not be borrowed.
    pub fn decide(&mut self, model: &Model) -> Result<js_sys::Promise, JsError> {
        if self.done() {
            return Err(JsError::new("this episode is over; start a new one"));
        }
        let agent = model.agent_in(&mut self.agent, u64::from(self.seed))?;
        let (observation, spec, gpu) = (self.world.observe(), self.spec.action.clone(), model.gpu());
        let decided = self.decided.clone();
        Ok(future_to_promise(async move {
            let decision = model::decide(agent, gpu, &observation, &spec).await?;
            let answer = Decided { backend: decision.backend, fell_back: decision.fell_back.clone() };
            *decided.borrow_mut() = Some((observation, decision));
            Ok(to_js(&answer)?)
        }))
    }

    /// Takes the step the model decided on (see `decide`) and reports it.
    #[wasm_bindgen(js_name = applyDecision)]
    pub fn apply_decision(&mut self) -> Result<JsValue, JsError> {
        let (observation, decision) =
            self.decided.borrow_mut().take().ok_or_else(|| JsError::new("the model has not decided yet"))?;
        if self.done() {
            return Err(JsError::new("this episode is over; start a new one"));
        }
        let report = self.report_action(&decision.action, Choice::Model, Some(&decision))?;
        self.take(observation, decision.action, report)
    }

    /// A visitor's push (see `World::push`): `x` to the right, `y` up, each in [-1, 1].
    pub fn push(&mut self, x: f32, y: f32) {
        self.world.push([x, y]);
    }

    /// The picture for people: `{width, height, rgba}`.
    pub fn frame(&self) -> Result<JsValue, JsError> {
        let frame = self.world.render();
        let js = to_js(&serde_json::json!({ "width": frame.width(), "height": frame.height() }))?;
        attach(&js, "rgba", &js_sys::Uint8ClampedArray::from(&frame.as_raw()[..]))?;
        Ok(js)
    }

    /// The tokens of the last timestep (what the agent saw, the separator, what it did), or
    /// before the first step those of what it sees now.
    pub fn tokens(&self, tokens: &Tokens) -> Result<JsValue, JsError> {
        let report = match &self.last {
            Some((observation, action)) => report::timestep(tokens.vocabulary(), observation, Some(action))?,
            None => report::timestep(tokens.vocabulary(), &self.world.observe(), None)?,
        };
        sequence_to_js(report)
    }
}

impl Session {
    fn of(world: Box<dyn World>, seed: u32, mission: Option<MissionInfo>) -> Session {
        let spec = world.spec();
        let rng = random_policy_rng(u64::from(seed));
        Session { world, spec, seed, rng, steps: 0, last: None, mission, agent: None, decided: Rc::default() }
    }

    /// Steps the world with `action`, taken after seeing `observation`, and reports the step.
    fn take(&mut self, observation: Observation, action: Action, report: ActionReport) -> Result<JsValue, JsError> {
        let reward = self.world.step(&action);
        self.steps += 1;
        self.last = Some((observation, action));
        to_js(&StepReport { step: self.steps, reward, score: self.world.score(), done: self.done(), action: report })
    }

    /// `decision` is the model's, when the model chose.
    fn report_action(
        &self,
        action: &Action,
        choice: Choice,
        decision: Option<&Decision>,
    ) -> Result<ActionReport, JsError> {
        let (label, values, probabilities): (_, Vec<ValueToken>, _) = match (action, &self.spec.action) {
            (Action::Discrete(xs), ActionSpec::Discrete { labels }) => {
                let index = xs.first().copied().unwrap_or(0) as usize;
                let probabilities = match (choice, decision) {
                    (Choice::Model, Some(d)) => d.distributions.first().cloned().unwrap_or_default(),
                    (Choice::Uniform, _) => vec![1.0 / labels.len() as f32; labels.len()],
                    _ => (0..labels.len()).map(|i| if i == index { 1.0 } else { 0.0 }).collect(),
                };
                let values =
                    xs.iter().map(|&x| ValueToken::of(Source::Discrete, x as f32, 0)).collect::<Result<_, _>>()?;
                (labels.get(index).copied(), values, Some(probabilities))
            }
            (Action::Continuous(xs), _) => {
                let values = xs
                    .iter()
                    .enumerate()
                    .map(|(i, &x)| ValueToken::of(Source::Action, x, i))
                    .collect::<Result<_, _>>()?;
                (None, values, None)
            }
            (Action::Discrete(_), ActionSpec::Continuous { .. }) => {
                return Err(JsError::new(&format!("{} takes continuous actions", self.spec.name)));
            }
        };
        // Each continuous value is one action token; its bin indexes that token's distribution.
        let confidence = decision.filter(|_| probabilities.is_none()).map(|d| {
            values.iter().zip(&d.distributions).map(|(v, p)| p.get(v.bin as usize).copied().unwrap_or(0.0)).collect()
        });
        Ok(ActionReport { label, values, choice, probabilities, confidence, backend: decision.map(|d| d.backend) })
    }
}

/// What a world accepts, in words, for error messages.
fn describe_actions(spec: &ActionSpec) -> String {
    match spec {
        ActionSpec::Discrete { labels } => {
            format!("it takes one action of 0..{} ({})", labels.len(), labels.join(", "))
        }
        ActionSpec::Continuous { dims } => format!("it takes {dims} values in [-1, 1]"),
    }
}
