#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds the client package and the /admin UI (web/admin/dist), which ssecast serves.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ -f clients/js/package.json ]]; then
  (cd clients/js && npm run --silent build)
fi
if [[ -f web/admin/package.json ]]; then
  (cd web/admin && npm run --silent build)
fi
