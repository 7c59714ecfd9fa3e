#!/usr/bin/env bash
# Turns a finished `unet train` run into the shipped brain model, measuring as it goes:
#   1. averages the weights of the run's last epochs (scripts/data/average_checkpoints.py),
#   2. scores the average on the template's held-out slabs (`unet eval`) for the card's
#      dice_template_slabs (a regression guard, not the model's accuracy),
#   3. runs it and deepbet on the held-out heads, Colin27, FSL's MNI152 and pycortex's S1, less
#      any the run trained on (`--train-head`) (scripts/bench/brain_peers.sh), and puts those figures into the card (colin27_*,
#      deepbet_colin27_*, ...); the card's threshold and opening are `unet train`'s
#      (crates/train/src/card.rs), chosen by scripts/bench/brain_postprocess_cv.py,
#   4. embeds the card and writes assets/models/brain-extraction.{unet.safetensors,card.json}.
#
#   scripts/data/ship_brain_model.sh [RUN_DIR] [EPOCHS_TO_AVERAGE]    # defaults: runs/brain 5
#
# RUN_DIR/epochs/ holds one checkpoint per epoch (`unet train` writes them). Needs the fast
# binary (`cargo build --profile release-native -p unet-cli`) and data/heads
# (scripts/data/fetch_heads.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
run="${1:-runs/brain}"
keep="${2:-5}"
unet="${UNET:-target/release-native/unet}"
[ -x "$unet" ] || { echo "build the CLI first: cargo build --profile release-native -p unet-cli" >&2; exit 1; }
mapfile -t epochs < <(ls "$run"/epochs/epoch-*.unet.safetensors | sort | tail -n "$keep")
[ "${#epochs[@]}" -gt 0 ] || { echo "no checkpoints in $run/epochs" >&2; exit 1; }
python3 scripts/data/average_checkpoints.py "${epochs[@]}" -o "$run/average.unet.safetensors"

# The template slabs' Dice of the average.
"$unet" train --heldout-only --out "$run" >/dev/null
slabs=$("$unet" eval --model "$run/average.unet.safetensors" \
  --images "$run/heldout/images" --masks "$run/heldout/masks" |
  sed -n 's/^overall dice=\([0-9.]*\).*/\1/p')
echo "template slabs: Dice $slabs"
rm -f "$run/card.json"
python3 - "$run/average.unet.safetensors" "$run/card.json" "$slabs" <<'PY'
import json, struct, sys
model, out, slabs = sys.argv[1], sys.argv[2], float(sys.argv[3])
with open(model, "rb") as f:
    n = struct.unpack("<Q", f.read(8))[0]
    card = json.loads(json.loads(f.read(n))["__metadata__"]["unet_web.model_card"])
metrics = card.setdefault("metrics", {})
metrics["dice_template_slabs"] = slabs
# The epoch's own augmented figure does not describe the average.
metrics.pop("dice_template_slabs_augmented", None)
metrics.pop("epoch", None)
open(out, "w").write(json.dumps(card))
PY

# The held-out heads, with the peer, into the card (colin27_*, mni152_head_*, s1_head_*); a head
# the run trained on (the card's training_settings.train_heads) is no longer held out and is skipped.
trained=$(python3 -c 'import json,sys; print(" ".join(json.load(open(sys.argv[1])).get("training_settings", {}).get("train_heads", ["mean_head"])))' "$run/card.json")
for head in colin27:colin27_brain mni152_head:mni152_head_brain s1_head:s1_head_brain; do
  case " $trained " in *" ${head%%:*} "*) echo "skipping ${head%%:*}: trained on"; continue ;; esac
  scripts/bench/brain_peers.sh --model "$run/average.unet.safetensors" --card "$run/card.json" \
    --json "$run/${head%%:*}.json" "data/heads/${head%%:*}.nii.gz" "data/heads/${head##*:}.nii.gz"
done

"$unet" convert --force --half "$run/average.unet.safetensors" --card "$run/card.json" \
  -o assets/models/brain-extraction.unet.safetensors
cp "$run/card.json" assets/models/brain-extraction.card.json
# The page checks each download against the manifest's size and hash.
python3 scripts/data/update_manifest.py
echo "shipped: assets/models/brain-extraction.unet.safetensors (card: assets/models/brain-extraction.card.json)"
