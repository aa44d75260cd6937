// The constrained choice of the next token from the last row of logits: greedy, or a
// draw at a temperature from the top k, always inside the allowed ids [lo, hi) and
// never the excluded id; plus the probabilities over the allowed ids at temperature 1,
// which the page shows. One workgroup; dispatch (1).

const NONE: u32 = 0xffffffffu;

struct Choice {
    token: u32,
    // [hi - lo]
    probabilities: array<f32>,
}

@group(0) @binding(0) var<uniform> call: Call;
@group(0) @binding(1) var<uniform> dims: Dims;
// [rows - first_out, vocab]
@group(0) @binding(2) var<storage, read> logits: array<f32>;
@group(0) @binding(3) var<storage, read_write> choice: Choice;

var<workgroup> best_value: array<f32, 64>;
var<workgroup> best_index: array<u32, 64>;
var<workgroup> counts: array<u32, 64>;
var<workgroup> chunk_weight: array<f32, 64>;

fn allowed(i: u32) -> bool {
    return i != call.excluded;
}

fn logit(i: u32) -> f32 {
    return logits[(call.rows - 1u - call.first_out) * dims.vocab + i];
}

// Logits as unsigned integers in the same order; excluded ids sort below every logit.
fn key(i: u32) -> u32 {
    if (!allowed(i)) {
        return 0u;
    }
    let bits = bitcast<u32>(logit(i));
    if ((bits & 0x80000000u) != 0u) {
        return ~bits;
    }
    return bits | 0x80000000u;
}

fn workgroup_count(lid: u32, value: u32) -> u32 {
    counts[lid] = value;
    workgroupBarrier();
    for (var s = 32u; s > 0u; s >>= 1u) {
        if (lid < s) {
            counts[lid] += counts[lid + s];
        }
        workgroupBarrier();
    }
    let total = counts[0];
    workgroupBarrier();
    return total;
}

// Kept by top-k: above the k-th largest logit, or equal to it and among the first
// `ties` such ids (`rank` counts those seen so far).
fn kept(i: u32, threshold: u32, ties: u32, rank: ptr<function, u32>) -> bool {
    let k = key(i);
    if (k == 0u) {
        return false;
    }
    if (k > threshold) {
        return true;
    }
    if (k == threshold) {
        let keep = *rank < ties;
        *rank += 1u;
        return keep;
    }
    return false;
}

@compute @workgroup_size(64)
fn main(@builtin(local_invocation_index) lid: u32) {
    let lo = call.lo;
    let hi = call.hi;

    // The largest allowed logit; the lowest id wins a tie, as on the CPU.
    var value = 0.0;
    var index = NONE;
    for (var i = lo + lid; i < hi; i += 64u) {
        if (allowed(i)) {
            let v = logit(i);
            if (index == NONE || v > value) {
                value = v;
                index = i;
            }
        }
    }
    best_value[lid] = value;
    best_index[lid] = index;
    workgroupBarrier();
    for (var s = 32u; s > 0u; s >>= 1u) {
        if (lid < s) {
            let other = best_index[lid + s];
            let mine = best_index[lid];
            let ov = best_value[lid + s];
            let mv = best_value[lid];
            if (other != NONE && (mine == NONE || ov > mv || (ov == mv && other < mine))) {
                best_value[lid] = ov;
                best_index[lid] = other;
            }
        }
        workgroupBarrier();
    }
    let top = best_value[0];
    let argmax = best_index[0];

    var sum = 0.0;
    for (var i = lo + lid; i < hi; i += 64u) {
        if (allowed(i)) {
            sum += exp(logit(i) - top);
        }
    }
    let total = workgroup_sum(lid, sum);
    for (var i = lo + lid; i < hi; i += 64u) {
        var p = 0.0;
        if (allowed(i)) {
            p = exp(logit(i) - top) / total;
        }
        choice.probabilities[i - lo] = p;
    }
    if (call.greedy != 0u) {
        if (lid == 0u) {
            choice.token = argmax;
        }
        return;
    }

    // Top-k: the k-th largest key, found bit by bit as the largest threshold that at
    // least k ids reach; then how many ids equal to it still fit.
    let range = hi - lo;
    let k = clamp(call.top_k, 1u, range);
    var threshold = 0u;
    var ties = range;
    if (k < range) {
        for (var bit = 31i; bit >= 0i; bit--) {
            let candidate = threshold | (1u << u32(bit));
            var reach = 0u;
            for (var i = lo + lid; i < hi; i += 64u) {
                if (key(i) >= candidate) {
                    reach += 1u;
                }
            }
            if (workgroup_count(lid, reach) >= k) {
                threshold = candidate;
            }
        }
        var above = 0u;
        for (var i = lo + lid; i < hi; i += 64u) {
            if (key(i) > threshold) {
                above += 1u;
            }
        }
        ties = k - workgroup_count(lid, above);
    }

    // The draw walks the kept ids in id order: each thread owns a contiguous chunk,
    // so the chunk sums locate the chosen id before one thread looks inside one chunk.
    let temperature = max(call.temperature, 1e-6);
    let chunk = (range + 63u) / 64u;
    let start = lo + lid * chunk;
    let end = min(start + chunk, hi);
    var my_ties = 0u;
    for (var i = start; i < end; i++) {
        if (key(i) != 0u && key(i) == threshold) {
            my_ties += 1u;
        }
    }
    counts[lid] = my_ties;
    workgroupBarrier();
    if (lid == 0u) {
        var before = 0u;
        for (var c = 0u; c < 64u; c++) {
            let here = counts[c];
            counts[c] = before;
            before += here;
        }
    }
    workgroupBarrier();
    var rank = counts[lid];
    var weight = 0.0;
    for (var i = start; i < end; i++) {
        if (kept(i, threshold, ties, &rank)) {
            weight += exp((logit(i) - top) / temperature);
        }
    }
    chunk_weight[lid] = weight;
    workgroupBarrier();
    if (lid != 0u) {
        return;
    }
    var all = 0.0;
    for (var c = 0u; c < 64u; c++) {
        all += chunk_weight[c];
    }
    let goal = call.draw * all;
    var walked = 0.0;
    // Rounding can leave the goal past the last kept id; the best id stands in then.
    var token = argmax;
    for (var c = 0u; c < 64u; c++) {
        if (chunk_weight[c] > 0.0 && goal < walked + chunk_weight[c]) {
            var r = counts[c];
            let first = lo + c * chunk;
            for (var i = first; i < min(first + chunk, hi); i++) {
                if (kept(i, threshold, ties, &r)) {
                    walked += exp((logit(i) - top) / temperature);
                    if (goal < walked) {
                        token = i;
                        break;
                    }
                }
            }
            break;
        }
        walked += chunk_weight[c];
    }
    choice.token = token;
}
