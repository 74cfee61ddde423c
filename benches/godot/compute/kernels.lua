-- Compute kernels for the per-frame benchmark's compute part: the same algorithms and sizes
-- as kernels.gd, run by the runtime inside Godot (benches/godot/compute.gd) and by a
-- standalone LuaJIT outside it (rust/core/examples/standalone_lua.rs). Each kernel returns a
-- checksum the other language must match; `time(name)` runs one and returns
-- `{ us = <CPU microseconds>, result = <checksum> }`.
local sqrt, floor, clock, concat, tostring = math.sqrt, math.floor, os.clock, table.concat, tostring

local K = {}

-- Sizes: each kernel runs for a few to a few tens of milliseconds in LuaJIT.
K.sizes = { nbody = 50000, spectral_norm = 300, mandelbrot = 400, binary_trees = 10, strings = 100000 }
K.order = { "nbody", "spectral_norm", "mandelbrot", "binary_trees", "strings" }

-- n-body: the Sun and the four gas giants, `steps` steps of 0.01 days; the energy after.
function K.nbody(steps)
  local PI = 3.141592653589793
  local SOLAR_MASS = 4 * PI * PI
  local DAYS = 365.24
  local function body(x, y, z, vx, vy, vz, mass)
    return { x = x, y = y, z = z, vx = vx * DAYS, vy = vy * DAYS, vz = vz * DAYS,
      mass = mass * SOLAR_MASS }
  end
  local bodies = {
    body(0, 0, 0, 0, 0, 0, 1),
    body(4.84143144246472090e+00, -1.16032004402742839e+00, -1.03622044471123109e-01,
      1.66007664274403694e-03, 7.69901118419740425e-03, -6.90460016972063023e-05,
      9.54791938424326609e-04),
    body(8.34336671824457987e+00, 4.12479856412430479e+00, -4.03523417114321381e-01,
      -2.76742510726862411e-03, 4.99852801234917238e-03, 2.30417297573763929e-05,
      2.85885980666130812e-04),
    body(1.28943695621391310e+01, -1.51111514016986312e+01, -2.23307578892655734e-01,
      2.96460137564761618e-03, 2.37847173959480950e-03, -2.96589568540237556e-05,
      4.36624404335156298e-05),
    body(1.53796971148509165e+01, -2.59193146099879641e+01, 1.79258772950371181e-01,
      2.68067772490389322e-03, 1.62824170038242295e-03, -9.51592254519715870e-05,
      5.15138902046611451e-05),
  }
  local n = #bodies
  local px, py, pz = 0, 0, 0
  for i = 1, n do
    local b = bodies[i]
    px = px + b.vx * b.mass
    py = py + b.vy * b.mass
    pz = pz + b.vz * b.mass
  end
  local sun = bodies[1]
  sun.vx = -px / SOLAR_MASS
  sun.vy = -py / SOLAR_MASS
  sun.vz = -pz / SOLAR_MASS
  for _ = 1, steps do
    for i = 1, n do
      local bi = bodies[i]
      local bix, biy, biz, bimass = bi.x, bi.y, bi.z, bi.mass
      local bivx, bivy, bivz = bi.vx, bi.vy, bi.vz
      for j = i + 1, n do
        local bj = bodies[j]
        local dx, dy, dz = bix - bj.x, biy - bj.y, biz - bj.z
        local d2 = dx * dx + dy * dy + dz * dz
        local mag = 0.01 / (d2 * sqrt(d2))
        local bm = bj.mass * mag
        bivx = bivx - dx * bm
        bivy = bivy - dy * bm
        bivz = bivz - dz * bm
        bm = bimass * mag
        bj.vx = bj.vx + dx * bm
        bj.vy = bj.vy + dy * bm
        bj.vz = bj.vz + dz * bm
      end
      bi.vx, bi.vy, bi.vz = bivx, bivy, bivz
      bi.x = bix + 0.01 * bivx
      bi.y = biy + 0.01 * bivy
      bi.z = biz + 0.01 * bivz
    end
  end
  local e = 0
  for i = 1, n do
    local bi = bodies[i]
    e = e + 0.5 * bi.mass * (bi.vx * bi.vx + bi.vy * bi.vy + bi.vz * bi.vz)
    for j = i + 1, n do
      local bj = bodies[j]
      local dx, dy, dz = bi.x - bj.x, bi.y - bj.y, bi.z - bj.z
      e = e - bi.mass * bj.mass / sqrt(dx * dx + dy * dy + dz * dz)
    end
  end
  return e
end

-- spectral-norm: the largest singular value of the infinite matrix A, from an n x n corner
-- and ten power iterations.
local function a(i, j)
  local ij = i + j
  return 1.0 / (ij * (ij + 1) * 0.5 + i + 1)
end

-- y = A x and y = A^T x: the benchmark's two loops, kept apart as in its reference
-- programs (one loop with the order as a parameter compiles to slower code in both languages).
local function av(x, y, n)
  for i = 0, n - 1 do
    local s = 0
    for j = 0, n - 1 do s = s + a(i, j) * x[j] end
    y[i] = s
  end
end

local function atv(x, y, n)
  for i = 0, n - 1 do
    local s = 0
    for j = 0, n - 1 do s = s + a(j, i) * x[j] end
    y[i] = s
  end
end

local function atav(x, y, t, n)
  av(x, t, n)
  atv(t, y, n)
end

function K.spectral_norm(n)
  local u, v, t = {}, {}, {}
  for i = 0, n - 1 do u[i], v[i], t[i] = 1, 0, 0 end
  for _ = 1, 10 do
    atav(u, v, t, n)
    atav(v, u, t, n)
  end
  local vbv, vv = 0, 0
  for i = 0, n - 1 do
    local vi = v[i]
    vbv = vbv + u[i] * vi
    vv = vv + vi * vi
  end
  return sqrt(vbv / vv)
end

-- mandelbrot: how many points of a size x size grid over [-1.5, 0.5] x [-1, 1] stay
-- within radius 2 for 50 iterations.
function K.mandelbrot(size)
  local inside = 0
  for y = 0, size - 1 do
    local ci = 2 * y / size - 1
    for x = 0, size - 1 do
      local cr = 2 * x / size - 1.5
      local zr, zi = 0, 0
      local escaped = false
      for _ = 1, 50 do
        local zr2, zi2 = zr * zr, zi * zi
        if zr2 + zi2 > 4 then
          escaped = true
          break
        end
        zi = 2 * zr * zi + ci
        zr = zr2 - zi2 + cr
      end
      if not escaped then inside = inside + 1 end
    end
  end
  return inside
end

-- binary-trees: build and walk complete binary trees of depths 4, 6, ... max_depth (more
-- of the shallow ones), plus one long-lived tree; the total of nodes walked.
local function tree(depth)
  if depth == 0 then return {} end
  depth = depth - 1
  return { tree(depth), tree(depth) }
end

local function check(node)
  local left = node[1]
  if not left then return 1 end
  return 1 + check(left) + check(node[2])
end

function K.binary_trees(max_depth)
  local total = check(tree(max_depth + 1))
  local long_lived = tree(max_depth)
  for depth = 4, max_depth, 2 do
    local iterations = 2 ^ (max_depth - depth + 4)
    for _ = 1, iterations do
      total = total + check(tree(depth))
    end
  end
  return total + check(long_lived)
end

-- string building: the numbers 0 .. n - 1 joined with commas; the length of the result.
function K.strings(n)
  local parts = {}
  for i = 0, n - 1 do parts[i + 1] = tostring(i) end
  local s = concat(parts, ",")
  return #s
end

function K.time(name)
  local kernel, size = K[name], K.sizes[name]
  local start = clock()
  local result = kernel(size)
  local us = floor((clock() - start) * 1e6 + 0.5)
  return { us = us, result = result }
end

return K
