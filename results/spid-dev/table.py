"""The yardsticks of every calibration in results/spid-dev as Markdown tables (stdout)."""
import json, pathlib, sys

here = pathlib.Path(__file__).parent
f3 = lambda v: "–" if v is None else f"{v:.3f}"
print("| policy | distance | fitted on | pioneer RMSE | logistic | Bass | pioneer forecast | logistic forecast | Bass forecast | pioneer Brier / AUC | logit Brier / AUC | runs | seconds |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
for policy in ["lottery", "antistalk", "compsch", "mlda21"]:
    for fit in ["all", "half"]:
        for dist in ["curve", "curve-1-events-1"]:
            p = here / f"{policy}-{fit}-{dist}-manifest.json"
            if not p.exists():
                continue
            m = json.loads(p.read_text())
            y = {r["curve"]: r for r in m["yardsticks"] if "curve" in r}
            pc, lg, bs = y["pioneer"], y["logistic"], y["bass"]
            ev = [r for r in m["yardsticks"] if "events" in r]
            pe = next(r for r in ev if r["events"] == "pioneer")
            le = next((r for r in ev if r["events"] != "pioneer"), None)
            held = fit == "half"
            be = lambda r, f: "–" if r is None else (f"{r['forecast_brier']:.3f} / {r['forecast_auc']:.3f}" if f else f"{r['brier']:.3f} / {r['auc']:.3f}")
            print(f"| {policy} | {dist.replace('-1-', '+').replace('-1', '')} | {'to ' + str(m['fit_until']) if held else 'all years'} "
                  f"| {f3(pc['rmse_share'])} | {f3(lg['rmse_share'])} | {f3(bs['rmse_share'])} "
                  f"| {f3(pc.get('forecast_rmse_share'))} | {f3(lg.get('forecast_rmse_share'))} | {f3(bs.get('forecast_rmse_share'))} "
                  f"| {be(pe, held)} | {be(le, held)} | {m['runs']:,} | {m['simulation_seconds']:.0f} |")
