// A linear layer, y = x W^T + b, and an epilogue: store y, store GELU(y), or add y into
// the output (a residual). W is uploaded transposed, [inputs, outputs], so neighbouring
// threads read neighbouring weights. One thread per (output, row), with no
// shared memory and no barriers: barriers are what CPU emulations of a GPU (lavapipe,
// SwiftShader) pay most for, and at this model's widths (192 to 1524 outputs) one
// thread per output already fills a GPU's decode step.

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
// [inputs, outputs]
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

// Dispatch (ceil(outputs / 64), rows).
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
    let range = row_range();
    let o = id.x;
    let row = id.y;
    if (o >= shape.outputs || row >= range.y) {
        return;
    }
    let x = (range.x + row) * shape.inputs;
    var acc = 0.0;
    for (var k = 0u; k < shape.inputs; k++) {
        acc += input[x + k] * weight[k * shape.outputs + o];
    }
    finish(row, o, acc);
}
