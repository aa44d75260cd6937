// The mean and the inverse standard deviation of input[base .. base + count] across a
// 64-thread workgroup, for LayerNorm and GroupNorm (which declare `input`).

fn moments(lid: u32, base: u32, count: u32, eps: f32) -> vec2<f32> {
    var sum = 0.0;
    for (var i = lid; i < count; i += 64u) {
        sum += input[base + i];
    }
    let mean = workgroup_sum(lid, sum) / f32(count);
    var squares = 0.0;
    for (var i = lid; i < count; i += 64u) {
        let centered = input[base + i] - mean;
        squares += centered * centered;
    }
    return vec2<f32>(mean, 1.0 / sqrt(workgroup_sum(lid, squares) / f32(count) + eps));
}
