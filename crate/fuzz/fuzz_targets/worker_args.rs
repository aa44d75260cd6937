//! The worker's message arguments as the wasm surface receives them, read by the same code
//! (`gatito::requests`) from JSON rather than from JS objects. The first byte picks the
//! entry point and the second its world or seed; with the second's top bit set every float
//! becomes NaN, which JS can send but JSON cannot write. The rest is the argument as JSON:
//!
//! - `Session.step(actor)`: an [`Actor`] in one of the worlds, then steps to the cap;
//! - `Session.push(x, y)`: `[x, y]`, then the expert plays on;
//! - `new Controller(space)` then `act(values, rgb)` and `Tokens.timestep`: `[space, parts]`,
//!   with a picture when the second byte is odd, decided by the tiny model;
//! - `Tokens.sentence(rgb, question)` and `Model.describe`: the question as a JSON string.
#![no_main]

use gatito::agent::Agent;
use gatito::envs::rollout::{random_action, random_policy_rng};
use gatito::envs::{self, World};
use gatito::model::generate::Sampling;
use gatito::requests::{Actor, PlainParts, Space, picture};
use gatito::tokens::image::PositionMode;
use gatito::tokens::{Action, Part, SequenceBuilder};
use gatito_fuzz::{expert_plays, tiny_model};
use libfuzzer_sys::fuzz_target;

/// Steps a freshly reset world may take here: enough to reach an episode's first events.
const STEPS: u32 = 40;

fuzz_target!(|data: &[u8]| {
    let [pick, choice, json @ ..] = data else { return };
    let nan = choice & 0x80 != 0;
    let mut worlds = envs::all();
    let count = worlds.len();
    let world = &mut worlds[usize::from(choice & 0x7f) % count];
    world.reset(u64::from(*choice));
    match pick % 4 {
        0 => {
            let Ok(actor) = serde_json::from_slice::<Actor>(json) else { return };
            let spec = world.spec().action;
            let action = match actor {
                Actor::Expert => world.expert(),
                Actor::Random => random_action(&spec, &mut random_policy_rng(0)),
                Actor::Chosen { action: Action::Continuous(xs) } if nan => Action::Continuous(vec![f32::NAN; xs.len()]),
                Actor::Chosen { action } => action,
            };
            if spec.accepts(&action) {
                play(world.as_mut(), action);
            }
        }
        1 => {
            let Ok([x, y]) = serde_json::from_slice::<[f32; 2]>(json) else { return };
            let (x, y) = if nan { (f32::NAN, f32::NAN) } else { (x, y) };
            world.push([x, y]);
            let action = world.expert();
            play(world.as_mut(), action);
        }
        2 => {
            let Ok((space, mut parts)) = serde_json::from_slice::<(Space, PlainParts)>(json) else { return };
            let Ok(spec) = space.spec() else { return };
            if nan {
                parts.values.iter_mut().for_each(|x| *x = f32::NAN);
            }
            let rgb = (choice & 1 != 0).then(|| (0..64 * 64 * 3).map(|i| (i * 7) as u8).collect());
            let Ok(observation) = parts.observation(rgb) else { return };
            let (model, vocabulary) = tiny_model();
            let mut builder = SequenceBuilder::new(vocabulary, PositionMode::Eval);
            let _ = builder.observation(&observation);
            let mut agent = Agent::new(model.clone(), vocabulary.clone(), Sampling::Greedy, 0);
            if let Ok(decision) = pollster::block_on(agent.act(&observation, &spec)) {
                assert!(spec.accepts(&decision.action), "{:?} outside {spec:?}", decision.action);
            }
        }
        _ => {
            let Ok(question) = serde_json::from_slice::<String>(json) else { return };
            let image = picture(vec![*choice; 64 * 64 * 3]).expect("a whole picture");
            let (model, vocabulary) = tiny_model();
            let mut builder = SequenceBuilder::new(vocabulary, PositionMode::Eval);
            let _ = builder.sentence(&[Part::Image(&image), Part::Context(&question)]);
            let mut agent = Agent::new(model.clone(), vocabulary.clone(), Sampling::Greedy, 0);
            let _ = pollster::block_on(agent.describe(&image, Some(&question), |_| {}));
        }
    }
});

/// Takes `first`, then lets the expert play on a few steps.
fn play(world: &mut dyn World, first: Action) {
    world.step(&first);
    expert_plays(world, STEPS);
}
