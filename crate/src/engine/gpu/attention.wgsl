// Causal attention of each new row over the cached window and the new rows up to
// itself, per head, with the ALiBi bias -slope * distance. One workgroup per
// (row, head); dispatch (rows, heads). The window holds at most MAX_KEYS elements.

const MAX_KEYS: u32 = 1024u;
const MAX_HEAD_DIM: u32 = 256u;

@group(0) @binding(0) var<uniform> call: Call;
@group(0) @binding(1) var<uniform> dims: Dims;
@group(0) @binding(2) var<storage, read> slopes: array<f32>;
// [rows, 3 * d]: queries, keys, values
@group(0) @binding(3) var<storage, read> qkv: array<f32>;
// [context, d] each, a ring
@group(0) @binding(4) var<storage, read> keys: array<f32>;
@group(0) @binding(5) var<storage, read> values: array<f32>;
// [rows, d]
@group(0) @binding(6) var<storage, read_write> output: array<f32>;

var<workgroup> query: array<f32, MAX_HEAD_DIM>;
var<workgroup> weights: array<f32, MAX_KEYS>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let row = wg.x;
    let head = wg.y;
    let d = dims.d;
    let hd = dims.head_dim;
    let offset = head * hd;
    // Keys 0..count in age order: the window's survivors, then the new rows up to this one.
    let count = call.past + row + 1u;
    for (var e = lid; e < hd; e += 64u) {
        query[e] = qkv[row * 3u * d + offset + e];
    }
    workgroupBarrier();

    let slope = slopes[head];
    var top = -3.0e38;
    for (var j = lid; j < count; j += 64u) {
        let base = (call.ring_start + j) % dims.context * d + offset;
        var dot = 0.0;
        for (var e = 0u; e < hd; e++) {
            dot += query[e] * keys[base + e];
        }
        let score = dot * dims.scale - slope * f32(count - 1u - j);
        weights[j] = score;
        top = max(top, score);
    }
    top = workgroup_max(lid, top);
    var sum = 0.0;
    for (var j = lid; j < count; j += 64u) {
        let w = exp(weights[j] - top);
        weights[j] = w;
        sum += w;
    }
    // The sum's barriers also publish every thread's weights.
    sum = workgroup_sum(lid, sum);

    for (var e = lid; e < hd; e += 64u) {
        var acc = 0.0;
        for (var j = 0u; j < count; j++) {
            acc += weights[j] * values[(call.ring_start + j) % dims.context * d + offset + e];
        }
        output[row * d + offset + e] = acc / sum;
    }
}
