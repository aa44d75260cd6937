// Every new element's embedding: its token's row (zero for a patch, whose embedding
// patch_scatter adds later) plus its local position's row.
// One thread per (feature, element); dispatch (ceil(d / 64), rows).

struct Element {
    id: u32,
    local_position: u32,
    is_patch: u32,
    pad: u32,
}

@group(0) @binding(0) var<uniform> call: Call;
@group(0) @binding(1) var<uniform> dims: Dims;
@group(0) @binding(2) var<storage, read> elements: array<Element>;
@group(0) @binding(3) var<storage, read> tokens: array<f32>;
@group(0) @binding(4) var<storage, read> positions: array<f32>;
@group(0) @binding(5) var<storage, read_write> x: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
    let f = id.x;
    let row = id.y;
    if (f >= dims.d || row >= call.rows) {
        return;
    }
    let e = elements[row];
    var value = positions[e.local_position * dims.d + f];
    if (e.is_patch == 0u) {
        value += tokens[e.id * dims.d + f];
    }
    x[row * dims.d + f] = value;
}
