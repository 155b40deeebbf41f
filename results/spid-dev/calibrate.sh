#!/bin/bash
# The four development policies of SPID (data/spid-dev/), each calibrated on the US-states world
# with the same priors, budget and distance, on all its years and on the years until half its
# eventual adopters had adopted (--fit-until half). Writes out/spid-dev/<policy>-<fit>/ and copies
# each summary and chart here. From the repository's root: bash results/spid-dev/calibrate.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --release --quiet
bin=target/release/pioneer
here=results/spid-dev
vary=(--vary params.r_need=0.005..0.5 --vary params.w_h=0..1 --vary innovation.0.closed=0..0.6 --vary params.gamma_g=2..30)
for policy in lottery antistalk compsch mlda21; do
    for fit in all half; do
        for distance in curve curve=1,events=1; do
            name=$policy-$fit-${distance//[=,]/-}
            extra=()
            [ "$fit" = half ] && extra=(--fit-until half)
            $bin calibrate "$here/$policy.toml" --observed "data/spid-dev/$policy-events.csv" "${vary[@]}" \
                --particles 300 --generations 6 --replicates 4 --predictive 100 --distance "$distance" \
                "${extra[@]}" --backend cpu --out "out/spid-dev/$name" --force > "$here/$name.txt"
            cp "out/spid-dev/$name/predictive.png" "$here/$name-predictive.png"
            cp "out/spid-dev/$name/pairs.png" "$here/$name-pairs.png"
            cp "out/spid-dev/$name/manifest.json" "$here/$name-manifest.json"
            echo "$name: $(grep -E 'runs in' "$here/$name.txt")"
        done
    done
done
