## The compute kernels of kernels.lua in GDScript: the same algorithms and sizes, written as a
## GDScript user would write them fast (static types, packed arrays). Each returns the checksum
## the Lua version must match.
extends RefCounted

const SIZES := {"nbody": 50000, "spectral_norm": 300, "mandelbrot": 400, "binary_trees": 10, "strings": 100000}


static func run(kernel: String) -> Variant:
	var size: int = SIZES[kernel]
	match kernel:
		"nbody":
			return nbody(size)
		"spectral_norm":
			return spectral_norm(size)
		"mandelbrot":
			return mandelbrot(size)
		"binary_trees":
			return binary_trees(size)
		"strings":
			return strings(size)
	return null


static func nbody(steps: int) -> float:
	var solar_mass := 4.0 * PI * PI
	var days := 365.24
	var x := PackedFloat64Array([0.0, 4.84143144246472090e+00, 8.34336671824457987e+00, 1.28943695621391310e+01, 1.53796971148509165e+01])
	var y := PackedFloat64Array([0.0, -1.16032004402742839e+00, 4.12479856412430479e+00, -1.51111514016986312e+01, -2.59193146099879641e+01])
	var z := PackedFloat64Array([0.0, -1.03622044471123109e-01, -4.03523417114321381e-01, -2.23307578892655734e-01, 1.79258772950371181e-01])
	var vx := PackedFloat64Array([0.0, 1.66007664274403694e-03, -2.76742510726862411e-03, 2.96460137564761618e-03, 2.68067772490389322e-03])
	var vy := PackedFloat64Array([0.0, 7.69901118419740425e-03, 4.99852801234917238e-03, 2.37847173959480950e-03, 1.62824170038242295e-03])
	var vz := PackedFloat64Array([0.0, -6.90460016972063023e-05, 2.30417297573763929e-05, -2.96589568540237556e-05, -9.51592254519715870e-05])
	var mass := PackedFloat64Array([1.0, 9.54791938424326609e-04, 2.85885980666130812e-04, 4.36624404335156298e-05, 5.15138902046611451e-05])
	var n := x.size()
	for i in n:
		vx[i] *= days
		vy[i] *= days
		vz[i] *= days
		mass[i] *= solar_mass
	var px := 0.0
	var py := 0.0
	var pz := 0.0
	for i in n:
		px += vx[i] * mass[i]
		py += vy[i] * mass[i]
		pz += vz[i] * mass[i]
	vx[0] = -px / solar_mass
	vy[0] = -py / solar_mass
	vz[0] = -pz / solar_mass
	for _step in steps:
		for i in n:
			var bix := x[i]
			var biy := y[i]
			var biz := z[i]
			var bimass := mass[i]
			var bivx := vx[i]
			var bivy := vy[i]
			var bivz := vz[i]
			for j in range(i + 1, n):
				var dx := bix - x[j]
				var dy := biy - y[j]
				var dz := biz - z[j]
				var d2 := dx * dx + dy * dy + dz * dz
				var mag := 0.01 / (d2 * sqrt(d2))
				var bm := mass[j] * mag
				bivx -= dx * bm
				bivy -= dy * bm
				bivz -= dz * bm
				bm = bimass * mag
				vx[j] += dx * bm
				vy[j] += dy * bm
				vz[j] += dz * bm
			vx[i] = bivx
			vy[i] = bivy
			vz[i] = bivz
			x[i] = bix + 0.01 * bivx
			y[i] = biy + 0.01 * bivy
			z[i] = biz + 0.01 * bivz
	var e := 0.0
	for i in n:
		e += 0.5 * mass[i] * (vx[i] * vx[i] + vy[i] * vy[i] + vz[i] * vz[i])
		for j in range(i + 1, n):
			var dx := x[i] - x[j]
			var dy := y[i] - y[j]
			var dz := z[i] - z[j]
			e -= mass[i] * mass[j] / sqrt(dx * dx + dy * dy + dz * dz)
	return e


static func _a(i: int, j: int) -> float:
	var ij := i + j
	return 1.0 / (ij * (ij + 1) * 0.5 + i + 1)


## y = A x and y = A^T x, kept apart as in kernels.lua.
static func _av(x: PackedFloat64Array, y: PackedFloat64Array, n: int) -> void:
	for i in n:
		var s := 0.0
		for j in n:
			s += _a(i, j) * x[j]
		y[i] = s


static func _atv(x: PackedFloat64Array, y: PackedFloat64Array, n: int) -> void:
	for i in n:
		var s := 0.0
		for j in n:
			s += _a(j, i) * x[j]
		y[i] = s


static func spectral_norm(n: int) -> float:
	var u := PackedFloat64Array()
	var v := PackedFloat64Array()
	var t := PackedFloat64Array()
	u.resize(n)
	u.fill(1.0)
	v.resize(n)
	v.fill(0.0)
	t.resize(n)
	t.fill(0.0)
	for _i in 10:
		_av(u, t, n)
		_atv(t, v, n)
		_av(v, t, n)
		_atv(t, u, n)
	var vbv := 0.0
	var vv := 0.0
	for i in n:
		vbv += u[i] * v[i]
		vv += v[i] * v[i]
	return sqrt(vbv / vv)


static func mandelbrot(size: int) -> int:
	var inside := 0
	for y in size:
		var ci := 2.0 * y / size - 1.0
		for x in size:
			var cr := 2.0 * x / size - 1.5
			var zr := 0.0
			var zi := 0.0
			var escaped := false
			for _i in 50:
				var zr2 := zr * zr
				var zi2 := zi * zi
				if zr2 + zi2 > 4.0:
					escaped = true
					break
				zi = 2.0 * zr * zi + ci
				zr = zr2 - zi2 + cr
			if not escaped:
				inside += 1
	return inside


static func _tree(depth: int) -> Array:
	if depth == 0:
		return []
	return [_tree(depth - 1), _tree(depth - 1)]


static func _check(node: Array) -> int:
	if node.is_empty():
		return 1
	return 1 + _check(node[0]) + _check(node[1])


static func binary_trees(max_depth: int) -> int:
	var total := _check(_tree(max_depth + 1))
	var long_lived := _tree(max_depth)
	for depth in range(4, max_depth + 1, 2):
		var iterations := 1 << (max_depth - depth + 4)
		for _i in iterations:
			total += _check(_tree(depth))
	return total + _check(long_lived)


static func strings(n: int) -> int:
	var parts := PackedStringArray()
	for i in n:
		parts.append(str(i))
	return ",".join(parts).length()
