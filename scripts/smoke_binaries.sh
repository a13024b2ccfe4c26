#!/usr/bin/env bash
# Smoke test of the built binaries (scripts/build_binaries.sh first).
#
#   scripts/smoke_binaries.sh [FOLDER]   # default dist/docclean
#
# Every command runs from an empty directory, with an empty $HOME and no venv on PATH
# (env -i), as on a user's machine. The reference is the build environment (build/venv:
# the same pinned libraries, run from source): outputs must be equal byte for byte.
# Needs the shared data (../shared/data or $DOCCLEAN_SHARED_DATA) for `evaluate`.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
FOLDER=$(cd "${1:-dist/docclean}" && pwd)
REFERENCE=${REFERENCE:-$ROOT/build/venv/bin/docclean}
SHARED=${DOCCLEAN_SHARED_DATA:-$ROOT/../shared/data}
[ -x "$FOLDER/docclean" ] && [ -x "$FOLDER/docclean-gui" ] || { echo "no binaries in $FOLDER" >&2; exit 1; }
[ -x "$REFERENCE" ] || { echo "no reference $REFERENCE (run scripts/build_binaries.sh)" >&2; exit 1; }
[ -d "$SHARED/noisyoffice" ] || { echo "shared data missing: $SHARED/noisyoffice (set DOCCLEAN_SHARED_DATA)" >&2; exit 1; }

W=$(mktemp -d)
gui_pid=
cleanup() { if [ -n "$gui_pid" ]; then kill -TERM "$gui_pid" 2>/dev/null || true; fi; rm -rf "$W"; }
trap cleanup EXIT
mkdir -p "$W/home" "$W/run" "$W/ref-home"
run() { (cd "$W/run" && env -i HOME="$W/home" PATH=/usr/bin:/bin LANG=C.UTF-8 "$@"); }
reference() { (cd "$W" && env -i HOME="$W/ref-home" PATH=/usr/bin:/bin LANG=C.UTF-8 "$@"); }
passed=0
failed=0
ok() { echo "ok: $*"; passed=$((passed + 1)); }
fail() { echo "FAILED: $*" >&2; failed=$((failed + 1)); }
start=$(date +%s)

# --version and models: what the source says.
if [ "$(run "$FOLDER/docclean" --version)" = "$(reference "$REFERENCE" --version)" ]; then
  ok "docclean --version: $(run "$FOLDER/docclean" --version)"
else fail "docclean --version differs from the build environment's"; fi
if diff <(run "$FOLDER/docclean" models) <(reference "$REFERENCE" models) >/dev/null; then ok "docclean models"
else fail "docclean models differs"; fi

# denoise the samples: byte-equal outputs, and no TensorFlow loaded (glibc's loader log).
run env LD_DEBUG=files LD_DEBUG_OUTPUT="$W/ld" "$FOLDER/docclean" -q denoise "$ROOT/resources/samples" -o "$W/out" \
  >"$W/denoise.out" 2>"$W/denoise.err" || fail "denoise exited $?: $(cat "$W/denoise.err")"
reference "$REFERENCE" -q denoise "$ROOT/resources/samples" -o "$W/ref" >/dev/null 2>&1
n=$(find "$W/ref" -type f | wc -l)
if [ "$n" -gt 0 ] && diff -r "$W/out" "$W/ref" >/dev/null; then ok "denoise: $n outputs byte-equal to the build environment's"
else fail "denoise outputs differ from the build environment's"; fi
if grep -l "libtensorflow" "$W"/ld.* >/dev/null 2>&1; then fail "denoise loaded TensorFlow"
else ok "denoise did not load TensorFlow ($(cat "$W"/ld.* | grep -c 'calling init:') libraries loaded)"; fi
rm -f "$W"/ld.*

# colour pages and a searchable PDF/A with the system's Tesseract; without Tesseract, one sentence.
if run "$FOLDER/docclean" -q denoise "$ROOT/resources/samples" -o "$W/colour" --mode colour >/dev/null 2>"$W/colour.err" \
   && reference "$REFERENCE" -q denoise "$ROOT/resources/samples" -o "$W/colour-ref" --mode colour >/dev/null 2>&1 \
   && diff -r "$W/colour" "$W/colour-ref" >/dev/null; then ok "denoise --mode colour: byte-equal to the build environment's"
else fail "denoise --mode colour: $(tail -3 "$W/colour.err")"; fi
if command -v tesseract >/dev/null; then
  if run "$FOLDER/docclean" -q denoise "$ROOT/resources/samples" -o "$W/searchable" --combine all.pdf --ocr eng --pdfa \
       >/dev/null 2>"$W/ocr.err" && verdict=$("$(dirname "$REFERENCE")/python" -c 'import sys, pikepdf; from pikepdf import pdfa
report = pdfa.validate_written(sys.argv[1], "2b")
text = " ".join(page.get_textpage().get_text_range() for page in __import__("pypdfium2").PdfDocument(sys.argv[1]))
print(report.verdict, len(text.split()))' "$W/searchable/all.pdf") && [ "${verdict%% *}" = pass ] && [ "${verdict##* }" -gt 100 ]; then
    ok "denoise --combine --ocr eng --pdfa: PDF/A-2b $verdict words"
  else fail "denoise --ocr --pdfa: ${verdict:-} $(tail -3 "$W/ocr.err")"; fi
else fail "Tesseract is not installed here: the searchable PDF is not checked"; fi
mkdir -p "$W/no-tesseract"
code=0; (cd "$W/run" && env -i HOME="$W/home" PATH="$W/no-tesseract" LANG=C.UTF-8 "$FOLDER/docclean" -q denoise \
  "$ROOT/resources/samples" -o "$W/unread" --format pdf --ocr eng >/dev/null 2>"$W/no-tesseract.err") || code=$?
if [ "$code" = 1 ] && grep -q "needs Tesseract, which is not installed: install it" "$W/no-tesseract.err" \
   && [ "$(wc -l <"$W/no-tesseract.err")" = 1 ] && [ ! -e "$W/unread" ]; then
  ok "without Tesseract: $(cat "$W/no-tesseract.err")"
else fail "without Tesseract (exit $code): $(head -3 "$W/no-tesseract.err")"; fi

# evaluate --json on four NoisyOffice pairs: the same scores (the timing aside).
mkdir -p "$W/pairs/noisy" "$W/pairs/clean"
for name in $(ls "$SHARED/noisyoffice/noisy" | sort | head -4); do
  cp "$SHARED/noisyoffice/noisy/$name" "$W/pairs/noisy/" && cp "$SHARED/noisyoffice/clean/$name" "$W/pairs/clean/"
done
scores() {  # the JSON line's scores, sorted, without the seconds per megapixel
  python3 -c 'import json, sys
scores = json.loads(sys.stdin.read().strip().splitlines()[-1])
scores.pop("seconds_per_megapixel")
print(json.dumps(scores, sort_keys=True))'
}
got=$(run "$FOLDER/docclean" -q evaluate --pairs "$W/pairs" --include-seen --json 2>"$W/eval.err" | scores) \
  || fail "evaluate failed: $(cat "$W/eval.err")"
want=$(reference "$REFERENCE" -q evaluate --pairs "$W/pairs" --include-seen --json 2>/dev/null | scores)
if [ -n "$got" ] && [ "$got" = "$want" ]; then ok "evaluate --json: $got"
else fail "evaluate --json: $got, expected $want"; fi

# train one tiny epoch on synthetic pages (TensorFlow, Keras, matplotlib's fonts), then clean a
# page with it: its first use exports it to OpenVINO (TensorFlow front end) in the user cache.
if run "$FOLDER/docclean" -q train --data synthetic --arch noisyoffice_basic --epochs 1 --steps-per-epoch 2 \
     --batch-size 2 --crop 64 -o "$W/tiny.keras" >"$W/train.out" 2>"$W/train.err"; then
  ok "train: $(tail -1 "$W/train.out")"
else fail "train exited $?: $(tail -5 "$W/train.err")"; fi
if run "$FOLDER/docclean" -q denoise "$ROOT/resources/samples/noisyoffice-2.png" -o "$W/tiny-out" \
     --model "$W/tiny.keras" >/dev/null 2>"$W/tiny.err" && [ -n "$(ls "$W/home/.cache/docclean/exports" 2>/dev/null)" ]; then
  ok "denoise with the trained model (exported to OpenVINO in the binary)"
else fail "denoise with the trained model: $(tail -5 "$W/tiny.err")"; fi
# the Keras runtime (TensorFlow) cleans a page too, without AutoGraph's warning.
if run "$FOLDER/docclean" -q denoise "$ROOT/resources/samples/noisyoffice-7.png" -o "$W/keras-out" --backend keras \
     >/dev/null 2>"$W/keras.err"; then ok "denoise --backend keras"
else fail "denoise --backend keras: $(tail -5 "$W/keras.err")"; fi
if grep -qi "autograph" "$W/train.err" "$W/tiny.err" "$W/keras.err"; then
  fail "AutoGraph warned: $(grep -hi autograph "$W/train.err" "$W/tiny.err" "$W/keras.err" | head -2)"
else ok "no AutoGraph warning"; fi

# the app, offscreen, with a folder, for a few seconds; SIGTERM closes it like a logout.
mkdir -p "$W/pages" && cp "$ROOT"/resources/samples/*.png "$W/pages/"
(cd "$W/run" && exec env -i HOME="$W/home" PATH=/usr/bin:/bin LANG=C.UTF-8 QT_QPA_PLATFORM=offscreen \
   "$FOLDER/docclean-gui" "$W/pages" >"$W/gui.out" 2>"$W/gui.err") &
gui_pid=$!
sleep "${SMOKE_GUI_SECONDS:-8}"
if kill -0 "$gui_pid" 2>/dev/null; then
  kill -TERM "$gui_pid"
  code=0; wait "$gui_pid" || code=$?
  gui_pid=
  [ "$code" = 0 ] && ok "docclean-gui ran with a folder and closed on SIGTERM" || fail "docclean-gui exited $code"
else
  code=0; wait "$gui_pid" || code=$?
  gui_pid=
  fail "docclean-gui stopped by itself (exit $code): $(tail -5 "$W/gui.err")"
fi
log=$(find "$W/home" -name docclean.log | head -1)
if [ -z "$log" ]; then fail "docclean-gui wrote no log"
elif grep -qE "ERROR|CRITICAL|Traceback" "$log" || grep -q "Traceback" "$W/gui.err"; then
  fail "docclean-gui logged an error: $(grep -hE 'ERROR|CRITICAL|Traceback' "$log" "$W/gui.err" | head -3)"
else ok "docclean-gui log has no error ($(wc -l <"$log") lines)"; fi

echo "smoke test of $FOLDER: $(($(date +%s) - start)) s"
echo "smoke: $passed passed, $failed failed"
[ "$failed" = 0 ]
