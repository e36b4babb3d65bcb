/**
 * The Oparaca platform's protobuf messages and services (package `oprc`,
 * proto3), written from the published definitions: the invocation messages
 * a function runtime serves (`OprcFunction`) and the object-data messages of
 * ODGM's `DataService`. Only the messages this SDK speaks are here; field
 * numbers and names are the platform's, so bytes interoperate.
 *
 * Kept as text in a module (not `.proto` files) so that the same source
 * loads from `src/` and from the built package without copying assets.
 */

/** `oprc-invoke.proto`: what ODGM sends a function runtime and what it answers. */
export const OPRC_INVOKE_PROTO = `
syntax = "proto3";
package oprc;

message ObjectInvocationRequest {
  uint32 partition_id = 1;
  reserved 2; // the retired uint64 object id
  string cls_id = 3;
  string fn_id = 4;
  map<string, string> options = 5;
  bytes payload = 6;
  optional string object_id = 7;
}

message InvocationRequest {
  uint32 partition_id = 1;
  string cls_id = 3;
  string fn_id = 4;
  map<string, string> options = 5;
  bytes payload = 6;
}

enum ResponseStatus {
  OKAY = 0;
  INVALID_REQUEST = 1;
  APP_ERROR = 2;
  SYSTEM_ERROR = 3;
}

message InvocationResponse {
  optional bytes payload = 1;
  ResponseStatus status = 2;
  map<string, string> headers = 3;
  string invocation_id = 4;
}

service OprcFunction {
  rpc InvokeFn (InvocationRequest) returns (InvocationResponse);
  rpc InvokeObj (ObjectInvocationRequest) returns (InvocationResponse);
}
`;

/** `oprc-data.proto`: objects as ODGM keeps them, and the part of `DataService` this SDK calls. */
export const OPRC_DATA_PROTO = `
syntax = "proto3";
package oprc;

enum ValType {
  VAL_TYPE_BYTE = 0;
  VAL_TYPE_CRDT_MAP = 1;
}

message ValData {
  bytes data = 1;
  ValType type = 2;
}

message ObjMeta {
  string cls_id = 1;
  uint32 partition_id = 2;
  reserved 3;
  optional string object_id = 4;
}

message TriggerTarget {
  string cls_id = 1;
  uint32 partition_id = 2;
  string fn_id = 4;
  map<string, string> req_options = 5;
  optional string object_id = 6;
}

message FuncTrigger {
  repeated TriggerTarget on_complete = 1;
  repeated TriggerTarget on_error = 2;
}

message DataTrigger {
  repeated TriggerTarget on_create = 1;
  repeated TriggerTarget on_update = 2;
  repeated TriggerTarget on_delete = 3;
}

message ObjectEvent {
  map<string, FuncTrigger> func_trigger = 1;
  map<string, DataTrigger> data_trigger = 3;
}

message ObjData {
  optional ObjMeta metadata = 1;
  reserved 2;
  optional ObjectEvent event = 3;
  map<string, ValData> entries = 4;
}

message EmptyResponse {}

message SingleObjectRequest {
  string cls_id = 1;
  uint32 partition_id = 2;
  optional string object_id = 4;
}

message ObjectResponse {
  ObjData obj = 1;
}

message SetObjectRequest {
  string cls_id = 1;
  int32 partition_id = 2;
  ObjData object = 4;
  optional string object_id = 5;
}

message BatchSetValuesRequest {
  string cls_id = 1;
  uint32 partition_id = 2;
  optional string object_id = 4;
  map<string, ValData> values = 5;
  repeated string delete_keys = 6;
  optional uint64 expected_object_version = 7;
}

message ListObjectsRequest {
  string cls_id = 1;
  uint32 partition_id = 2;
  optional string object_id_prefix = 3;
  uint32 limit = 4;
  optional bytes cursor = 5;
}

message ObjectMetaEnvelope {
  string object_id = 1;
  uint64 version = 2;
  uint64 entry_count = 3;
  optional bytes next_cursor = 4;
}

message SingleKeyRequest {
  string cls_id = 1;
  uint32 partition_id = 2;
  optional string key = 5;
  optional string object_id = 6;
}

message ValueResponse {
  ValData value = 1;
  optional uint64 object_version = 2;
  optional string key = 3;
  optional bool deleted = 4;
}

message CapabilitiesRequest {}

message CapabilitiesResponse {
  bool string_ids = 1;
  bool string_entry_keys = 2;
  bool granular_entry_storage = 3;
  bool event_pipeline_v2 = 4;
}

service DataService {
  rpc Get (SingleObjectRequest) returns (ObjectResponse);
  rpc Delete (SingleObjectRequest) returns (EmptyResponse);
  rpc Set (SetObjectRequest) returns (EmptyResponse);
  rpc Merge (SetObjectRequest) returns (ObjectResponse);
  rpc ListObjects (ListObjectsRequest) returns (stream ObjectMetaEnvelope);
  rpc GetValue (SingleKeyRequest) returns (ValueResponse);
  rpc BatchSetValues (BatchSetValuesRequest) returns (EmptyResponse);
  rpc Capabilities (CapabilitiesRequest) returns (CapabilitiesResponse);
}
`;
