// Adds each patch's projected embedding and its row and column encodings into the
// element it occupies. One thread per (feature, patch); dispatch (ceil(d / 64), patches).

struct PatchSlot {
    element: u32,
    row: u32,
    col: u32,
    pad: u32,
}

@group(0) @binding(0) var<uniform> call: Call;
@group(0) @binding(1) var<uniform> dims: Dims;
// [patches, d]: the projection's output
@group(0) @binding(2) var<storage, read> projected: array<f32>;
// [position_bins, d] each
@group(0) @binding(3) var<storage, read> row_table: array<f32>;
@group(0) @binding(4) var<storage, read> col_table: array<f32>;
@group(0) @binding(5) var<storage, read> slots: array<PatchSlot>;
@group(0) @binding(6) var<storage, read_write> x: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
    let f = id.x;
    let p = id.y;
    if (f >= dims.d || p >= call.patches) {
        return;
    }
    let slot = slots[p];
    let d = dims.d;
    x[slot.element * d + f] += projected[p * d + f] + row_table[slot.row * d + f] + col_table[slot.col * d + f];
}
