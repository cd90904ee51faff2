/** The PyTorch peer of the benchmark workloads, as a python3 program (run with `python3 -c`). */
export function torchPeerScript(workload: string, warmup: number, steps: number, threads: number): string {
  return `
import json, resource, statistics, time, torch, torch.nn as nn
torch.set_num_threads(${threads})
W = "${workload}"
def cifar(bn):
    layers, cin = [], 3
    for f in (32, 64, 128):
        for _ in range(2):
            layers += [nn.Conv2d(cin, f, 3, padding=1), nn.ReLU()]; cin = f
        if bn: layers.append(nn.BatchNorm2d(f))
        layers.append(nn.MaxPool2d(2))
        if bn: layers.append(nn.Dropout(0.2))
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(128 * 16, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 10))
def mobile():
    layers = [nn.Conv2d(3, 32, 3, padding=1, bias=False), nn.BatchNorm2d(32), nn.ReLU()]; cin = 32
    for f, s in ((64, 1), (128, 2), (128, 1), (256, 2), (256, 1)):
        layers += [nn.Conv2d(cin, cin, 3, stride=s, padding=1, groups=cin, bias=False), nn.BatchNorm2d(cin), nn.ReLU(),
                   nn.Conv2d(cin, f, 1, bias=False), nn.BatchNorm2d(f), nn.ReLU()]; cin = f
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(cin, 10))
if W == "A":
    model = nn.Sequential(nn.Conv2d(3, 50, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(50, 50, 3), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(50 * 14 * 14, 50), nn.ReLU(), nn.Linear(50, 10)); size, batch = 64, 32
elif W == "B": model, size, batch = cifar(False), 32, 128
elif W == "C": model, size, batch = cifar(True), 32, 128
else: model, size, batch = mobile(), 32, 64
opt = torch.optim.Adam(model.parameters(), 1e-3)
x = torch.randn(batch, 3, size, size); y = torch.randint(0, 10, (batch,))
loss_fn = nn.CrossEntropyLoss(); times = []
for i in range(${warmup + steps}):
    t0 = time.perf_counter(); opt.zero_grad(); loss_fn(model(x), y).backward(); opt.step()
    if i >= ${warmup}: times.append((time.perf_counter() - t0) * 1000)
print(json.dumps({"stepMs": statistics.median(times), "peakRssMB": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}))
`;
}
