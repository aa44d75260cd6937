// A linear layer, y = x W^T + b with W stored [outputs, inputs] as PyTorch keeps it,
// and an epilogue: store y, store GELU(y), or add y into the output (a residual).
// Two ways to run it: `matvec` for one or a few rows (decode), where 32 threads share
// each output's dot product and reduce it in shared memory; `matmul` for many rows
// (prefill), in 16x16 tiles staged through shared memory.

override EPILOGUE: u32 = 0u;
const STORE: u32 = 0u;
const GELU: u32 = 1u;
const ACCUMULATE: u32 = 2u;

// Which rows a layer reads: every new row, only those whose logits are wanted, or the patches.
const ROWS_ALL: u32 = 0u;
const ROWS_LOGITS: u32 = 1u;
const ROWS_PATCHES: u32 = 2u;

struct Shape {
    inputs: u32,
    outputs: u32,
    rows: u32,
    pad: u32,
}

@group(0) @binding(0) var<uniform> call: Call;
@group(0) @binding(1) var<uniform> shape: Shape;
@group(0) @binding(2) var<storage, read> input: array<f32>;
@group(0) @binding(3) var<storage, read> weight: array<f32>;
@group(0) @binding(4) var<storage, read> bias: array<f32>;
@group(0) @binding(5) var<storage, read_write> output: array<f32>;

// (first input row, row count); output row r comes from input row first + r.
fn row_range() -> vec2<u32> {
    switch shape.rows {
        case ROWS_LOGITS: {
            return vec2<u32>(call.first_out, call.rows - call.first_out);
        }
        case ROWS_PATCHES: {
            return vec2<u32>(0u, call.patches);
        }
        default: {
            return vec2<u32>(0u, call.rows);
        }
    }
}

fn finish(row: u32, o: u32, dot: f32) {
    let i = row * shape.outputs + o;
    let y = dot + bias[o];
    if (EPILOGUE == GELU) {
        output[i] = gelu(y);
    } else if (EPILOGUE == ACCUMULATE) {
        output[i] += y;
    } else {
        output[i] = y;
    }
}

const LANES: u32 = 32u;
const OUTPUTS_PER_GROUP: u32 = 8u;
var<workgroup> sums: array<f32, 256>;

// Dispatch (ceil(outputs / 8), rows).
@compute @workgroup_size(256)
fn matvec(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let range = row_range();
    let row = wg.y;
    let o = wg.x * OUTPUTS_PER_GROUP + lid / LANES;
    let lane = lid % LANES;
    var acc = 0.0;
    if (o < shape.outputs && row < range.y) {
        let a = (range.x + row) * shape.inputs;
        let w = o * shape.inputs;
        for (var k = lane; k < shape.inputs; k += LANES) {
            acc += input[a + k] * weight[w + k];
        }
    }
    sums[lid] = acc;
    workgroupBarrier();
    for (var s = LANES / 2u; s > 0u; s >>= 1u) {
        if (lane < s) {
            sums[lid] += sums[lid + s];
        }
        workgroupBarrier();
    }
    if (lane == 0u && o < shape.outputs && row < range.y) {
        finish(row, o, sums[lid]);
    }
}

const TILE: u32 = 16u;
var<workgroup> tile_x: array<f32, 256>;
var<workgroup> tile_w: array<f32, 256>;

// Dispatch (ceil(outputs / 16), ceil(rows / 16)).
@compute @workgroup_size(16, 16)
fn matmul(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let range = row_range();
    let row = wg.y * TILE + lid.y;
    let o = wg.x * TILE + lid.x;
    // This thread stages x[row][k0 + lid.x] and W[wg.x * 16 + lid.y][k0 + lid.x].
    let staged_out = wg.x * TILE + lid.y;
    var acc = 0.0;
    for (var k0 = 0u; k0 < shape.inputs; k0 += TILE) {
        let k = k0 + lid.x;
        var xv = 0.0;
        if (row < range.y && k < shape.inputs) {
            xv = input[(range.x + row) * shape.inputs + k];
        }
        var wv = 0.0;
        if (staged_out < shape.outputs && k < shape.inputs) {
            wv = weight[staged_out * shape.inputs + k];
        }
        tile_x[lid.y * TILE + lid.x] = xv;
        tile_w[lid.y * TILE + lid.x] = wv;
        workgroupBarrier();
        for (var j = 0u; j < TILE; j++) {
            acc += tile_x[lid.y * TILE + j] * tile_w[lid.x * TILE + j];
        }
        workgroupBarrier();
    }
    if (row < range.y && o < shape.outputs) {
        finish(row, o, acc);
    }
}
