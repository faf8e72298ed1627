#!/usr/bin/env bash
# Build (once) the binaries for the `kube` test tier, cached outside the repo:
#   ${LAKELAB_CACHE:-~/.cache/lakelab}/kube/bin/{kwok,kwokctl,kube-apiserver,ray-operator}
#   ${LAKELAB_CACHE:-~/.cache/lakelab}/kube/crds/*.yaml   (KubeRay CRDs, v1.5.0)
# Idempotent: a binary already present is not rebuilt. Build times go to kube/timings.
# Needs Go >= 1.26 (/usr/local/go/bin) and network access to the Go module proxy.
set -euo pipefail
export PATH=/usr/local/go/bin:$PATH
CACHE="${LAKELAB_CACHE:-$HOME/.cache/lakelab}/kube"
BIN="$CACHE/bin"
mkdir -p "$BIN" "$CACHE/crds" "$CACHE/timings"
K8S_VERSION="${K8S_VERSION:-v1.36.3}"
KWOK_VERSION="${KWOK_VERSION:-v0.8.0}"
KUBERAY_VERSION="${KUBERAY_VERSION:-v1.5.0}"
log() { echo "[kube-build $(date +%T)] $*" >&2; }
timed() { # name cmd...
  local name=$1; shift
  local t0=$SECONDS
  "$@"
  echo "$name $((SECONDS - t0))s $(date -Is)" >> "$CACHE/timings/build.log"
  log "$name built in $((SECONDS - t0))s"
}

build_kwok() {
  GOBIN="$BIN" go install "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION" "sigs.k8s.io/kwok/cmd/kwokctl@$KWOK_VERSION"
}

build_operator() {
  GOBIN="$BIN" go install "github.com/ray-project/kuberay/ray-operator@$KUBERAY_VERSION"
}

copy_crds() {
  local dir
  dir=$(cd "$CACHE" && GOFLAGS=-mod=mod go mod download -json "github.com/ray-project/kuberay/ray-operator@$KUBERAY_VERSION" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')
  cp "$dir"/config/crd/bases/*.yaml "$CACHE/crds/"
  chmod u+w "$CACHE"/crds/*.yaml
}

build_apiserver() { # component
  local mod="$CACHE/apiserver-build"
  mkdir -p "$mod"
  local minor=${K8S_VERSION#v1.}; minor=${minor%%.*}
  local staging="v0.${K8S_VERSION#v1.}"
  cat > "$mod/go.mod" <<GOMOD
module lakelab.local/kube-apiserver-build

go 1.26

require k8s.io/kubernetes $K8S_VERSION
GOMOD
  # k8s.io/kubernetes requires its staging modules at v0.0.0: replace each with the tag.
  local staging_mods=(api apiextensions-apiserver apimachinery apiserver cli-runtime client-go
    cloud-provider cluster-bootstrap code-generator component-base component-helpers
    controller-manager cri-api cri-client csi-translation-lib dynamic-resource-allocation
    endpointslice externaljwt kms kube-aggregator kube-controller-manager kube-proxy
    kube-scheduler kubectl kubelet metrics mount-utils pod-security-admission sample-apiserver
    sample-cli-plugin sample-controller streaming)
  for m in "${staging_mods[@]}"; do
    echo "replace k8s.io/$m => k8s.io/$m $staging" >> "$mod/go.mod"
  done
  cat > "$mod/tools.go" <<'GOSRC'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
)
GOSRC
  (cd "$mod" && GOFLAGS=-mod=mod go mod tidy -e >/dev/null 2>&1 || true
   GOFLAGS=-mod=mod go get "k8s.io/kubernetes/cmd/kube-apiserver@$K8S_VERSION"
   local pkg=k8s.io/component-base/version
   GOFLAGS=-mod=mod go build -o "$BIN/$1.tmp" -ldflags "-s -w \
     -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor \
     -X $pkg.gitTreeState=clean -X $pkg/verflag.programName=$1" \
     "k8s.io/kubernetes/cmd/$1")
  mv "$BIN/$1.tmp" "$BIN/$1"
}

what=${1:-all}
if [[ $what == all || $what == kwok ]]; then
  [[ -x $BIN/kwok && -x $BIN/kwokctl ]] || timed kwok build_kwok
fi
if [[ $what == all || $what == operator ]]; then
  [[ -x $BIN/ray-operator ]] || timed ray-operator build_operator
  ls "$CACHE"/crds/ray.io_rayclusters.yaml >/dev/null 2>&1 || copy_crds
fi
if [[ $what == all || $what == apiserver ]]; then
  # kwokctl's binary runtime also runs the scheduler (pods must be bound to the fake
  # nodes) and the controller manager (garbage collection of owned objects, quotas)
  for c in kube-apiserver kube-scheduler kube-controller-manager; do
    [[ -x $BIN/$c ]] || timed "$c" build_apiserver "$c"
  done
fi
log "binaries in $BIN"
