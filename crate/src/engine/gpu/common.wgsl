// Shared by every kernel: what one call feeds, the model's fixed shape, and GELU.

// Written before each forward pass; every dispatch of the pass reads the same values.
struct Call {
    // New elements in this call.
    rows: u32,
    // Cached elements attention still sees (the sliding window's survivors).
    past: u32,
    // The ring slot of the oldest element attention sees.
    ring_start: u32,
    // The first new row whose logits are wanted (rows - 1 when only the last is read).
    first_out: u32,
    patches: u32,
    // Sampling: the allowed ids [lo, hi), one id never chosen (0xffffffff: none),
    // greedy or not, top-k, temperature, and the caller's uniform draw in [0, 1).
    lo: u32,
    hi: u32,
    excluded: u32,
    greedy: u32,
    top_k: u32,
    temperature: f32,
    draw: f32,
}

// The model's shape, fixed at load.
struct Dims {
    d: u32,
    heads: u32,
    head_dim: u32,
    d_ff: u32,
    vocab: u32,
    context: u32,
    channels: u32,
    groups: u32,
    eps: f32,
    // 1 / sqrt(head_dim)
    scale: f32,
    pad0: u32,
    pad1: u32,
}

// erf by Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7): WGSL has no erf, and the
// model was trained with the exact GELU, not the tanh approximation.
fn erf(x: f32) -> f32 {
    let a = abs(x);
    let t = 1.0 / (1.0 + 0.3275911 * a);
    let poly = ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t;
    return sign(x) * (1.0 - poly * exp(-a * a));
}

fn gelu(x: f32) -> f32 {
    return 0.5 * x * (1.0 + erf(x * 0.70710678118654752));
}
