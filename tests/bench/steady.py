"""CPU-bound steady-state workload for tests/bench/startup: the interpreter's
own speed once running (calls, attributes, floats, dicts, strings,
generators), with no imports beyond those python3 makes at start-up, so
that an image and python3 run the same code.  About half a second in
python3.11 on the benchmark's machine.  Prints a checksum, which the
benchmark compares."""


class Body:
    __slots__ = ("x", "y", "z", "vx", "vy", "vz", "mass")

    def __init__(self, x, y, z, vx, vy, vz, mass):
        self.x, self.y, self.z = x, y, z
        self.vx, self.vy, self.vz = vx, vy, vz
        self.mass = mass


def nbody(steps):
    bodies = [Body(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 39.47),
              Body(4.84, -1.16, -0.10, 0.61, 2.81, -0.02, 0.037),
              Body(8.34, 4.12, -0.40, -1.01, 1.82, 0.008, 0.011),
              Body(12.89, -15.11, -0.22, 1.08, 0.87, -0.01, 0.0017),
              Body(15.37, -25.91, 0.17, 0.97, 0.59, -0.03, 0.002)]
    pairs = [(a, b) for i, a in enumerate(bodies) for b in bodies[i + 1:]]
    for _ in range(steps):
        for a, b in pairs:
            dx, dy, dz = a.x - b.x, a.y - b.y, a.z - b.z
            mag = 0.01 * (dx * dx + dy * dy + dz * dz) ** -1.5
            bm, am = b.mass * mag, a.mass * mag
            a.vx -= dx * bm
            a.vy -= dy * bm
            a.vz -= dz * bm
            b.vx += dx * am
            b.vy += dy * am
            b.vz += dz * am
        for body in bodies:
            body.x += 0.01 * body.vx
            body.y += 0.01 * body.vy
            body.z += 0.01 * body.vz
    return round(sum(b.x + b.y + b.z for b in bodies), 6)


class Task:
    def __init__(self, name, work):
        self.name = name
        self.work = work
        self.done = 0

    def run(self, scheduler):
        self.done += 1
        if self.work > 0:
            self.work -= 1
            scheduler.push(self)


class Scheduler:
    def __init__(self):
        self.queue = []

    def push(self, task):
        self.queue.append(task)

    def drain(self):
        handled = 0
        while self.queue:
            self.queue.pop().run(self)
            handled += 1
        return handled


def scheduler(rounds):
    total = 0
    for r in range(rounds):
        s = Scheduler()
        for i in range(50):
            s.push(Task(f"t{i}", (i * r) % 17))
        total += s.drain()
    return total


def words(repeat):
    text = " ".join(f"word{i % 97} other{i % 13} {'x' * (i % 7)}" for i in range(2000))
    counts = {}
    for _ in range(repeat):
        for word in text.split():
            counts[word] = counts.get(word, 0) + 1
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return sum(len(w) * n for w, n in ranked[:50])


def generators(n):
    def evens(limit):
        for i in range(limit):
            if i % 2 == 0:
                yield i

    return sum(x * x for x in evens(n)) % 1000003 + len([c for c in str(n) * 1000 if c != "0"])


def main():
    print(nbody(20000), scheduler(3000), words(40), generators(600000))


main()
