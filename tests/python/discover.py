#!/usr/bin/env python3
"""A Python gRPC client that knows the growth services only through reflection.

No generated code and no .proto file is used: every service, method and
message is discovered from the running servers with gRPC server reflection
(grpc.reflection.v1alpha), turned into message classes with
google.protobuf.message_factory.GetMessageClass, and called with plain generic
grpcio calls (channel.unary_unary / channel.unary_stream).

Usage:
    discover.py --metrics HOST:PORT --lifecycle HOST:PORT --token TOKEN

Prints one line per check and a final "python reflection client: N passed,
M failed" line; exits 1 when any check failed.
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from typing import Any, Callable

import grpc
from google.protobuf import descriptor_pool, message_factory
from grpc_reflection.v1alpha import reflection_pb2
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
    ProtoReflectionDescriptorDatabase,
)

METRICS_SERVICE = "growth.metrics.v1.MetricsService"
LIFECYCLE_SERVICE = "growth.lifecycle.v1.LifecycleService"
HEALTH_SERVICE = "grpc.health.v1.Health"
RPC_TIMEOUT = 30.0


class CheckFailed(Exception):
    """A check's assertion did not hold."""


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise CheckFailed(message)


class Checks:
    """Runs named checks, prints one line for each and counts the outcomes."""

    def __init__(self) -> None:
        self.passed = 0
        self.failed = 0

    def run(self, name: str, fn: Callable[[], Any]) -> Any:
        try:
            detail = fn()
        except CheckFailed as e:
            self.failed += 1
            print(f"FAIL {name}: {e}", flush=True)
            return None
        except grpc.RpcError as e:
            self.failed += 1
            print(f"FAIL {name}: unexpected RPC error {e.code().name}: {e.details()}", flush=True)
            return None
        except Exception as e:  # noqa: BLE001 - any crash is a failed check
            self.failed += 1
            print(f"FAIL {name}: {type(e).__name__}: {e}", flush=True)
            traceback.print_exc(file=sys.stdout)
            return None
        self.passed += 1
        print(f"ok   {name}" + (f": {detail}" if detail else ""), flush=True)
        return detail

    def skip_dependent(self, name: str, reason: str) -> None:
        self.failed += 1
        print(f"FAIL {name}: not run ({reason})", flush=True)


class Reflected:
    """One server seen through reflection: its services, descriptors and calls."""

    def __init__(self, addr: str, token: str) -> None:
        self.addr = addr
        self.channel = grpc.insecure_channel(addr)
        self.database = ProtoReflectionDescriptorDatabase(self.channel)
        self.pool = descriptor_pool.DescriptorPool(self.database)
        self.auth = (("authorization", f"Bearer {token}"),)

    def close(self) -> None:
        self.channel.close()

    def services(self) -> list[str]:
        return list(self.database.get_services())

    def message(self, full_name: str) -> type:
        """The message class for a fully qualified message name."""
        return message_factory.GetMessageClass(self.pool.FindMessageTypeByName(full_name))

    def _method(self, service: str, method: str):
        md = self.pool.FindServiceByName(service).FindMethodByName(method)
        expect(md is not None, f"{service} has no method {method} in its reflected descriptor")
        request = message_factory.GetMessageClass(md.input_type)
        response = message_factory.GetMessageClass(md.output_type)
        return md, f"/{service}/{method}", request, response

    def request(self, service: str, method: str, /, **fields: Any):
        """A request message for `service/method`, built from its reflected descriptor."""
        _, _, request, _ = self._method(service, method)
        return request(**fields)

    def unary(self, service: str, method: str, req, *, token: bool = True):
        md, path, request, response = self._method(service, method)
        expect(not md.client_streaming and not md.server_streaming, f"{path} is not unary")
        expect(isinstance(req, request), f"request is a {type(req).__name__}, not {request.__name__}")
        call = self.channel.unary_unary(
            path, request_serializer=request.SerializeToString, response_deserializer=response.FromString
        )
        return call(req, metadata=self.auth if token else None, timeout=RPC_TIMEOUT)

    def server_stream(self, service: str, method: str, req, *, token: bool = True):
        md, path, request, response = self._method(service, method)
        expect(md.server_streaming and not md.client_streaming, f"{path} is not server-streaming")
        call = self.channel.unary_stream(
            path, request_serializer=request.SerializeToString, response_deserializer=response.FromString
        )
        return call(req, metadata=self.auth if token else None, timeout=RPC_TIMEOUT)


def rpc_error(fn: Callable[[], Any]) -> grpc.RpcError:
    """Runs `fn`, which must fail with an RPC error, and returns that error."""
    try:
        result = fn()
    except grpc.RpcError as e:
        return e
    raise CheckFailed(f"expected an RPC error, got a reply: {result!r}")


def set_timestamp(ts, unix_seconds: float) -> None:
    """Fills a reflected google.protobuf.Timestamp from its fields only."""
    ts.seconds = int(unix_seconds)
    ts.nanos = int((unix_seconds - int(unix_seconds)) * 1e9)


def check_discovery(checks: Checks, server: Reflected, expected: str, forbidden: str) -> bool:
    def listed():
        services = server.services()
        expect(expected in services, f"{expected} not in {services}")
        expect(forbidden not in services, f"{forbidden} should not be served here, got {services}")
        expect(HEALTH_SERVICE in services, f"{HEALTH_SERVICE} not in {services}")
        return ", ".join(sorted(services))

    def described():
        sd = server.pool.FindServiceByName(expected)
        methods = [m.name for m in sd.methods]
        expect(len(methods) > 0, "no methods")
        return f"{len(methods)} methods from {sd.file.name}"

    def reflection_v1():
        # The grpc.reflection.v1 messages are wire-identical to v1alpha's, so
        # v1alpha's message classes can ask the v1 service too.
        call = server.channel.stream_stream(
            "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
            request_serializer=reflection_pb2.ServerReflectionRequest.SerializeToString,
            response_deserializer=reflection_pb2.ServerReflectionResponse.FromString,
        )
        replies = list(call(iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=RPC_TIMEOUT))
        expect(len(replies) == 1, f"expected one reply, got {len(replies)}")
        expect(replies[0].WhichOneof("message_response") == "list_services_response", f"got {replies[0]}")
        names = [s.name for s in replies[0].list_services_response.service]
        expect(expected in names, f"{expected} not in {names}")
        return ", ".join(sorted(names))

    ok = checks.run(f"{server.addr}: reflection (v1alpha) lists {expected}, not {forbidden}", listed) is not None
    ok = checks.run(f"{server.addr}: reflection resolves {expected} descriptors", described) is not None and ok
    checks.run(f"{server.addr}: reflection v1 also answers", reflection_v1)
    return ok


def check_health(checks: Checks, server: Reflected, service: str) -> None:
    def check(name: str):
        def run():
            req = server.request(HEALTH_SERVICE, "Check", service=name)
            reply = server.unary(HEALTH_SERVICE, "Check", req, token=False)
            status_enum = reply.DESCRIPTOR.fields_by_name["status"].enum_type
            status = status_enum.values_by_number[reply.status].name
            expect(status == "SERVING", f"status {status}")
            return status

        return run

    checks.run(f"{server.addr}: Health/Check(\"\") without token is SERVING", check(""))
    checks.run(f"{server.addr}: Health/Check({service}) without token is SERVING", check(service))


def check_metrics(checks: Checks, m: Reflected) -> None:
    now = time.time()
    user_id = "py_user_1"
    stamp = time.time_ns()
    event_ids = [f"py_evt_{stamp}_1", f"py_evt_{stamp}_2"]

    def user():
        req = m.request(METRICS_SERVICE, "UpsertUsers")
        u = req.users.add()
        u.user_id = user_id
        u.email = "py_user_1@example.com"
        set_timestamp(u.signup_at, now - 86400)
        u.plan = "trial"
        return req

    def events(names: list[str]):
        req = m.request(METRICS_SERVICE, "TrackEvents")
        for event_id, name in zip(event_ids, names):
            e = req.events.add()
            e.event_id = event_id
            e.user_id = user_id
            e.name = name
            set_timestamp(e.occurred_at, now - 60)
            e.properties_json = '{"source":"python-reflection-client"}'
        return req

    def upsert():
        reply = m.unary(METRICS_SERVICE, "UpsertUsers", user())
        total = reply.inserted + reply.updated + reply.unchanged
        expect(total == 1, f"inserted+updated+unchanged = {total}, want 1 ({reply})")
        return f"inserted={reply.inserted} updated={reply.updated} unchanged={reply.unchanged}"

    def track_first():
        reply = m.unary(METRICS_SERVICE, "TrackEvents", events(["login", "report_created"]))
        expect(reply.inserted == 2, f"inserted={reply.inserted}, want 2")
        expect(reply.duplicates == 0, f"duplicates={reply.duplicates}, want 0")
        expect(reply.last_sequence > 0, f"last_sequence={reply.last_sequence}, want > 0")
        return f"inserted={reply.inserted} duplicates={reply.duplicates} last_sequence={reply.last_sequence}"

    def track_again():
        reply = m.unary(METRICS_SERVICE, "TrackEvents", events(["login", "report_created"]))
        expect(reply.duplicates == 2, f"duplicates={reply.duplicates}, want 2")
        expect(reply.inserted == 0, f"inserted={reply.inserted}, want 0")
        return f"inserted={reply.inserted} duplicates={reply.duplicates} last_sequence={reply.last_sequence}"

    def watch():
        req = m.request(METRICS_SERVICE, "WatchEvents", after_sequence=0, stop_at_end=True)
        seen: dict[str, int] = {}
        messages = total = 0
        last = 0
        for reply in m.server_stream(METRICS_SERVICE, "WatchEvents", req):
            messages += 1
            for fe in reply.events:
                total += 1
                expect(fe.sequence > last, f"sequence {fe.sequence} after {last}: not ascending")
                last = fe.sequence
                if fe.event.event_id in event_ids:
                    seen[fe.event.event_id] = fe.sequence
                    expect(fe.event.user_id == user_id, f"{fe.event.event_id} has user {fe.event.user_id}")
            if reply.events:
                expect(reply.cursor == reply.events[-1].sequence, f"cursor {reply.cursor} != last sequence")
        missing = [e for e in event_ids if e not in seen]
        expect(not missing, f"missing {missing} among {total} streamed events")
        return f"{total} events in {messages} messages, ours at sequences {sorted(seen.values())}"

    def invalid():
        req = events(["", "login"])
        del req.events[1:]
        req.events[0].event_id = f"py_evt_{stamp}_bad"
        err = rpc_error(lambda: m.unary(METRICS_SERVICE, "TrackEvents", req))
        expect(err.code() == grpc.StatusCode.INVALID_ARGUMENT, f"{err.code().name}: {err.details()}")
        expect("events[0].name" in (err.details() or ""), f"details {err.details()!r} do not name events[0].name")
        return f"{err.code().name}: {err.details()}"

    def unauthenticated():
        err = rpc_error(lambda: m.unary(METRICS_SERVICE, "UpsertUsers", user(), token=False))
        expect(err.code() == grpc.StatusCode.UNAUTHENTICATED, f"{err.code().name}: {err.details()}")
        return f"{err.code().name}: {err.details()}"

    a = m.addr
    if checks.run(f"{a}: UpsertUsers {user_id}", upsert) is None:
        for name in ("TrackEvents", "TrackEvents again", "WatchEvents"):
            checks.skip_dependent(f"{a}: {name}", "UpsertUsers failed")
    elif checks.run(f"{a}: TrackEvents inserts 2", track_first) is None:
        checks.skip_dependent(f"{a}: TrackEvents again", "TrackEvents failed")
        checks.skip_dependent(f"{a}: WatchEvents", "TrackEvents failed")
    else:
        checks.run(f"{a}: TrackEvents again reports 2 duplicates", track_again)
        checks.run(f"{a}: WatchEvents(after 0, stop_at_end) streams both events", watch)
    checks.run(f"{a}: TrackEvents with an empty name is INVALID_ARGUMENT naming events[0].name", invalid)
    checks.run(f"{a}: UpsertUsers without token is UNAUTHENTICATED", unauthenticated)


def check_lifecycle(checks: Checks, lc: Reflected) -> None:
    def distribution():
        req = lc.request(LIFECYCLE_SERVICE, "GetStageDistribution")
        reply = lc.unary(LIFECYCLE_SERVICE, "GetStageDistribution", req)
        expect(len(reply.stages) == 6, f"{len(reply.stages)} stages, want all 6")
        total = sum(s.users for s in reply.stages)
        expect(total == reply.total_users, f"stages add up to {total}, total_users is {reply.total_users}")
        return f"total_users={reply.total_users} over {len(reply.stages)} stages"

    def dry_run():
        req = lc.request(LIFECYCLE_SERVICE, "EvaluateUsers", dry_run=True)
        messages = list(lc.server_stream(LIFECYCLE_SERVICE, "EvaluateUsers", req))
        expect(messages and messages[-1].done, "the last message has done set")
        return f"{messages[-1].evaluated} users in {len(messages)} messages, {messages[-1].transitions} transitions would be made"

    def invalid_rule():
        req = lc.request(LIFECYCLE_SERVICE, "UpsertTriggerRule")
        req.rule.target_id = "123"
        err = rpc_error(lambda: lc.unary(LIFECYCLE_SERVICE, "UpsertTriggerRule", req))
        expect(err.code() == grpc.StatusCode.INVALID_ARGUMENT, f"{err.code().name}: {err.details()}")
        expect("rule.to_stage" in err.details(), f"details name the field: {err.details()}")
        return f"{err.code().name}: {err.details()}"

    def unauthenticated():
        req = lc.request(LIFECYCLE_SERVICE, "GetStageDistribution")
        err = rpc_error(lambda: lc.unary(LIFECYCLE_SERVICE, "GetStageDistribution", req, token=False))
        expect(err.code() == grpc.StatusCode.UNAUTHENTICATED, f"{err.code().name}: {err.details()}")
        return f"{err.code().name}: {err.details()}"

    checks.run(f"{lc.addr}: GetStageDistribution lists every stage", distribution)
    checks.run(f"{lc.addr}: EvaluateUsers(dry_run) streams progress to done", dry_run)
    checks.run(f"{lc.addr}: UpsertTriggerRule without to_stage is INVALID_ARGUMENT naming rule.to_stage", invalid_rule)
    checks.run(f"{lc.addr}: GetStageDistribution without token is UNAUTHENTICATED", unauthenticated)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--metrics", required=True, metavar="ADDR", help="metrics-svc gRPC address, host:port")
    parser.add_argument("--lifecycle", required=True, metavar="ADDR", help="lifecycle-svc gRPC address, host:port")
    parser.add_argument("--token", required=True, help="bearer token for the RPCs")
    args = parser.parse_args()

    checks = Checks()
    metrics = Reflected(args.metrics, args.token)
    lifecycle = Reflected(args.lifecycle, args.token)
    try:
        for server, expected, forbidden in (
            (metrics, METRICS_SERVICE, LIFECYCLE_SERVICE),
            (lifecycle, LIFECYCLE_SERVICE, METRICS_SERVICE),
        ):
            discovered = check_discovery(checks, server, expected, forbidden)
            check_health(checks, server, expected)
            if not discovered:
                checks.skip_dependent(f"{server.addr}: RPC checks", f"{expected} was not discovered")
                continue
            if server is metrics:
                check_metrics(checks, server)
            else:
                check_lifecycle(checks, server)
    finally:
        metrics.close()
        lifecycle.close()

    print(f"python reflection client: {checks.passed} passed, {checks.failed} failed", flush=True)
    return 0 if checks.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
