#!/usr/bin/env bash
# Regenerates src/gen/ from the .proto files (needs protoc: Debian's protobuf-compiler). The output
# is committed; a test checks it matches the .proto files.
set -euo pipefail
cd "$(dirname "$0")"
out="${1:-src/gen}"
mkdir -p "$out"
protoc \
  --plugin=protoc-gen-ts_proto="$(cd .. && pwd)/node_modules/.bin/protoc-gen-ts_proto" \
  --ts_proto_out="$out" \
  --ts_proto_opt=esModuleInterop=true,importSuffix=.js,forceLong=number,outputServices=false,useExactTypes=false,env=node,snakeToCamel=true,useJsTypeOverride=true,outputJsonMethods=false,outputPartialMethods=false \
  -I . harrier/events/v1/events.proto
# Falco's gRPC API (outputs and version services) for its existing clients, with @grpc/grpc-js
# service definitions; timestamps stay google.protobuf.Timestamp (a Date would lose nanoseconds).
protoc \
  --plugin=protoc-gen-ts_proto="$(cd .. && pwd)/node_modules/.bin/protoc-gen-ts_proto" \
  --ts_proto_out="$out" \
  --ts_proto_opt=esModuleInterop=true,importSuffix=.js,forceLong=number,outputServices=grpc-js,useDate=false,useExactTypes=false,env=node,snakeToCamel=true,outputJsonMethods=false,outputPartialMethods=false \
  -I . -I /usr/include falco/schema.proto falco/outputs.proto falco/version.proto
