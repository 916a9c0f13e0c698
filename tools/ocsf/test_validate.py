#!/usr/bin/env python3
"""Tests for tools/ocsf/validate.py (stdlib unittest).

Run:  python3 tools/ocsf/test_validate.py

The sample events below were written from the OCSF 1.8.0 schema files in
schema-1.8.0/ (class files under events/, objects/, dictionary.json), not
from memory.  Each must validate cleanly; each mutation must produce the
expected error.
"""

import copy
import io
import json
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # keep tools/ocsf free of __pycache__
sys.path.insert(0, HERE)

import validate  # noqa: E402

SCRIPT = os.path.join(HERE, "validate.py")
TIME = 1767225600123  # 2026-01-01T00:00:00.123Z, integer milliseconds


def metadata(**extra):
    meta = {
        "version": "1.8.0",
        "uid": "0b7d3f0e-4a4b-4b7e-9a36-3f7c1c2a9d11",
        "tenant_uid": "tenant-42",
        "log_name": "security",
        "product": {"name": "MHP", "vendor_name": "MHP", "version": "0.1.0"},
    }
    meta.update(extra)
    return meta


def classification(class_uid, class_name, category_uid, category_name, activity_id, activity_name):
    return {
        "class_uid": class_uid,
        "class_name": class_name,
        "category_uid": category_uid,
        "category_name": category_name,
        "activity_id": activity_id,
        "activity_name": activity_name,
        "type_uid": class_uid * 100 + activity_id,
        "type_name": "%s: %s" % (class_name, activity_name),
    }


USER = {"name": "alice", "uid": "u-1001", "type_id": 1, "type": "User", "email_addr": "alice@example.com"}
ADMIN = {"name": "root-admin", "uid": "u-1", "type_id": 2, "type": "Admin"}
SRC = {"ip": "203.0.113.7", "port": 51234}
HTTP_REQUEST = {
    "http_method": "POST",
    "url": {"url_string": "https://mhp.example.com/api/v1/login", "scheme": "https",
            "hostname": "mhp.example.com", "path": "/api/v1/login", "port": 443},
    "user_agent": "curl/8.5.0",
    "version": "HTTP/1.1",
}


def authentication_logon_failure():
    event = classification(3002, "Authentication", 3, "Identity & Access Management", 1, "Logon")
    event.update({
        "time": TIME,
        "severity_id": 3, "severity": "Medium",
        "status_id": 2, "status": "Failure",
        "status_detail": "INVALID_CREDENTIALS",
        "message": "login failed for alice",
        "metadata": metadata(),
        "user": USER,
        "src_endpoint": SRC,
        "service": {"name": "mhp-api"},  # class constraint: service or dst_endpoint
        "auth_protocol_id": 99, "auth_protocol": "password",  # 99: label is free-form
        "logon_type_id": 3, "logon_type": "Network",
        "is_mfa": False, "is_remote": True,
        "http_request": HTTP_REQUEST,
        "unmapped": {"anything": {"goes": [1, "two", None]}},
    })
    return event


def account_change():
    event = classification(3001, "Account Change", 3, "Identity & Access Management", 3, "Password Change")
    event.update({
        "time": TIME, "severity_id": 1, "severity": "Informational",
        "status_id": 1, "status": "Success",
        "metadata": metadata(),
        "user": USER,
        "actor": {"user": USER, "session": {"uid": "s-77", "is_remote": True}},
        "src_endpoint": SRC,
    })
    return event


def api_activity():
    event = classification(6003, "API Activity", 6, "Application Activity", 1, "Create")
    event.update({
        "time": TIME, "severity_id": 1, "severity": "Informational",
        "status_id": 1, "status": "Success",
        "metadata": metadata(),
        "api": {"operation": "POST /api/v1/items", "service": {"name": "mhp-api"},
                "request": {"uid": "req-9f2c"}, "response": {"code": 201}},
        "actor": {"user": USER, "session": {"uid": "s-77", "created_time": TIME - 60000}},
        "src_endpoint": SRC,
        "http_request": dict(HTTP_REQUEST, url={"url_string": "https://mhp.example.com/api/v1/items",
                                                "path": "/api/v1/items"}),
        "http_response": {"code": 201},
        "observables": [{"name": "src_endpoint.ip", "type_id": 2, "type": "IP Address",
                         "value": "203.0.113.7"}],
    })
    return event


def detection_finding():
    event = classification(2004, "Detection Finding", 2, "Findings", 1, "Create")
    event.update({
        "time": TIME, "severity_id": 4, "severity": "High",
        "status_id": 1, "status": "New",  # the Finding status enum, not Success/Failure
        "metadata": metadata(),
        "finding_info": {
            "uid": "f-0001", "title": "Brute force against alice",
            "desc": "10 failed logins in 60s", "types": ["brute-force"],
            "created_time": TIME,
            "analytic": {"uid": "rule-bf-1", "name": "bruteforce", "type_id": 1, "type": "Rule"},
        },
        "is_alert": True,
        "confidence_id": 3, "confidence": "High",
        "evidences": [{"src_endpoint": SRC, "user": USER}],
    })
    return event


def compliance_finding():
    event = classification(2003, "Compliance Finding", 2, "Findings", 1, "Create")
    event.update({
        "time": TIME, "severity_id": 2, "severity": "Low",
        "status_id": 1, "status": "New",
        "metadata": metadata(),
        "finding_info": {"uid": "f-0002", "title": "TLS certificate expires in 7 days"},
        "compliance": {"standards": ["MHP-BASELINE-1"], "control": "TLS-01",
                       "status_id": 3, "status": "Fail"},
        "resources": [{"name": "api-gateway", "type": "service", "uid": "svc-1"}],
    })
    return event


def web_resource_access_activity():
    event = classification(6004, "Web Resource Access Activity", 6, "Application Activity", 2, "Access Deny")
    event.update({
        "time": TIME, "severity_id": 3, "severity": "Medium",
        "status_id": 2, "status": "Failure",
        "metadata": metadata(),
        "http_request": dict(HTTP_REQUEST, http_method="GET"),
        "http_response": {"code": 403},
        "web_resources": [{"name": "/admin", "type": "page",
                           "url_string": "https://mhp.example.com/admin"}],
        "src_endpoint": SRC,
    })
    return event


def authorize_session():
    event = classification(3003, "Authorize Session", 3, "Identity & Access Management", 1, "Assign Privileges")
    event.update({
        "time": TIME, "severity_id": 1, "severity": "Informational",
        "status_id": 1, "status": "Success",
        "metadata": metadata(),
        "user": ADMIN,
        "privileges": ["admin:read", "admin:write"],  # class constraint: just one of privileges/group
        "session": {"uid": "s-78", "created_time": TIME, "is_remote": True},
        "src_endpoint": SRC,
    })
    return event


def user_access_management():
    event = classification(3005, "User Access Management", 3, "Identity & Access Management", 2, "Revoke Privileges")
    event.update({
        "time": TIME, "severity_id": 2, "severity": "Low",
        "status_id": 1, "status": "Success",
        "metadata": metadata(),
        "user": USER,
        "privileges": ["admin"],
        "actor": {"user": ADMIN},
        "resources": [{"name": "tenant-42", "type": "tenant", "uid": "tenant-42"}],
    })
    return event


SAMPLES = {
    "authentication": authentication_logon_failure,
    "account_change": account_change,
    "api_activity": api_activity,
    "detection_finding": detection_finding,
    "compliance_finding": compliance_finding,
    "web_resource_access_activity": web_resource_access_activity,
    "authorize_session": authorize_session,
    "user_access_management": user_access_management,
}

SCHEMA = validate.Schema(validate.DEFAULT_SCHEMA_DIR)


def check(event):
    """Errors (list of (path, message)) for one event."""
    _label, errors, _warnings = validate.EventValidator(SCHEMA).validate(event)
    return errors


class SamplesValid(unittest.TestCase):
    def test_samples_are_valid(self):
        for name, make in SAMPLES.items():
            with self.subTest(sample=name):
                self.assertEqual(check(make()), [])

    def test_metadata_tenant_uid_is_defined_in_1_8_0(self):
        self.assertIn("tenant_uid", SCHEMA.object("metadata").attributes)

    def test_unmapped_is_free_form(self):
        event = account_change()
        event["unmapped"] = {"x": {"y": [{"z": 1}]}, "w": None}
        self.assertEqual(check(event), [])

    def test_null_optional_attribute_is_allowed(self):
        event = account_change()
        event["message"] = None
        self.assertEqual(check(event), [])

    def test_other_activity_with_own_label(self):
        event = account_change()
        event.update(activity_id=99, activity_name="Rename", type_uid=300199,
                     type_name="Account Change: Other")
        self.assertEqual(check(event), [])

    def test_profile_attributes_need_the_profile(self):
        event = detection_finding()
        event["action_id"] = 2  # security_control profile
        event["action"] = "Denied"
        errors = check(event)
        self.assertIn("action_id", [path for path, _ in errors])
        event["metadata"]["profiles"] = ["security_control"]
        self.assertEqual(check(event), [])

    def test_profile_required_attribute(self):
        event = api_activity()
        event["metadata"]["profiles"] = ["cloud"]  # the cloud profile makes `cloud` required
        self.assertIn(("cloud", "required attribute is missing"), check(event))
        event["cloud"] = {"provider": "AWS", "region": "eu-west-1"}
        self.assertEqual(check(event), [])

    def test_datetime_profile(self):
        event = account_change()
        event["time_dt"] = "2026-01-01T00:00:00.123Z"
        self.assertTrue(check(event))
        event["metadata"]["profiles"] = ["datetime"]
        self.assertEqual(check(event), [])

    def test_all_samples_through_cli(self):
        with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as handle:
            for make in SAMPLES.values():
                handle.write(json.dumps(make()) + "\n\n")
        try:
            proc = run_cli(handle.name)
        finally:
            os.unlink(handle.name)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertTrue(proc.stdout.startswith("8 events valid (classes: "), proc.stdout)
        self.assertIn("Authentication [3002] x1", proc.stdout)


def mutated(make, mutate):
    event = copy.deepcopy(make())
    mutate(event)
    return check(event)


class MutationsFail(unittest.TestCase):
    def assertError(self, errors, path, fragment):
        matches = [message for p, message in errors if p == path and fragment in message]
        self.assertTrue(matches, "no error at %r containing %r in %r" % (path, fragment, errors))

    def test_missing_required_top_level(self):
        for attribute in ("time", "severity_id", "metadata", "activity_id", "type_uid", "category_uid"):
            with self.subTest(attribute=attribute):
                errors = mutated(account_change, lambda e: e.pop(attribute))
                self.assertError(errors, attribute, "required attribute is missing")

    def test_missing_required_class_attribute(self):
        cases = [
            (authentication_logon_failure, "user"),
            (api_activity, "api"), (api_activity, "actor"), (api_activity, "src_endpoint"),
            (detection_finding, "finding_info"),
            (compliance_finding, "compliance"),
            (web_resource_access_activity, "http_request"), (web_resource_access_activity, "web_resources"),
            (user_access_management, "privileges"),
        ]
        for make, attribute in cases:
            with self.subTest(sample=make.__name__, attribute=attribute):
                errors = mutated(make, lambda e: e.pop(attribute))
                self.assertError(errors, attribute, "required attribute is missing")

    def test_required_attribute_null(self):
        errors = mutated(account_change, lambda e: e.update(user=None))
        self.assertError(errors, "user", "required attribute is null")

    def test_missing_nested_required(self):
        cases = [
            (account_change, ("metadata", "version"), "metadata.version"),
            (account_change, ("metadata", "product"), "metadata.product"),
            (api_activity, ("api", "operation"), "api.operation"),
            (detection_finding, ("finding_info", "uid"), "finding_info.uid"),
            (api_activity, ("http_response", "code"), "http_response.code"),
            (detection_finding, ("finding_info", "analytic", "type_id"), "finding_info.analytic.type_id"),
        ]
        for make, keys, path in cases:
            def drop(event, keys=keys):
                target = event
                for key in keys[:-1]:
                    target = target[key]
                del target[keys[-1]]
            with self.subTest(path=path):
                self.assertError(mutated(make, drop), path, "required attribute is missing")

    def test_nested_required_inside_array(self):
        errors = mutated(api_activity, lambda e: e["observables"][0].pop("type_id"))
        self.assertError(errors, "observables[0].type_id", "required attribute is missing")

    def test_object_constraints(self):
        errors = mutated(account_change, lambda e: e.update(user={"type_id": 1}))
        self.assertError(errors, "user", "at least one of: account, name, uid")
        errors = mutated(account_change, lambda e: e["metadata"]["product"].pop("name"))
        self.assertError(errors, "metadata.product", "at least one of: name, uid")
        errors = mutated(account_change, lambda e: e.update(actor={"app_name": None}))
        self.assertError(errors, "actor", "at least one of: process, user")
        errors = mutated(api_activity, lambda e: e.update(src_endpoint={"port": 1}))
        self.assertError(errors, "src_endpoint", "at least one of: ip")

    def test_class_constraints(self):
        errors = mutated(authentication_logon_failure, lambda e: e.pop("service"))
        self.assertError(errors, "$", "at least one of: service, dst_endpoint")
        errors = mutated(authorize_session, lambda e: e.update(group={"name": "admins"}))
        self.assertError(errors, "$", "exactly one of: privileges, group (found 2)")
        errors = mutated(authorize_session, lambda e: e.pop("privileges"))
        self.assertError(errors, "$", "exactly one of: privileges, group (found 0)")

    def test_wrong_type_uid(self):
        errors = mutated(authentication_logon_failure, lambda e: e.update(type_uid=300202))
        self.assertError(errors, "type_uid", "expected class_uid * 100 + activity_id")
        self.assertError(errors, "type_name", "type_uid 300202 means \"Authentication: Logoff\"")

    def test_wrong_category(self):
        errors = mutated(authentication_logon_failure, lambda e: e.update(category_uid=6))
        self.assertError(errors, "category_uid", "not a valid value (allowed: 3 Identity & Access Management)")

    def test_unknown_activity(self):
        errors = mutated(authorize_session, lambda e: e.update(activity_id=3, type_uid=300303))
        self.assertError(errors, "activity_id", "3 is not a valid value")

    def test_wrong_captions(self):
        cases = [
            ("activity_name", "Logoff", "activity_id 1 means \"Logon\""),
            ("class_name", "Auth", "class_uid 3002 means \"Authentication\""),
            ("category_name", "IAM", "category_uid 3 means \"Identity & Access Management\""),
            ("type_name", "Authentication: Logoff", "means \"Authentication: Logon\""),
            ("severity", "High", "severity_id 3 means \"Medium\""),
            ("status", "Success", "status_id 2 means \"Failure\""),
        ]
        for attribute, value, fragment in cases:
            with self.subTest(attribute=attribute):
                errors = mutated(authentication_logon_failure, lambda e: e.update({attribute: value}))
                self.assertError(errors, attribute, fragment)

    def test_finding_status_uses_finding_enum(self):
        errors = mutated(detection_finding, lambda e: e.update(status="Success"))
        self.assertError(errors, "status", "status_id 1 means \"New\"")

    def test_unknown_attribute(self):
        errors = mutated(account_change, lambda e: e.update(tenant="x"))
        self.assertError(errors, "tenant", "unknown attribute")
        errors = mutated(account_change, lambda e: e["metadata"].update(tenant_id="x"))
        self.assertError(errors, "metadata.tenant_id", "unknown attribute: not defined in object metadata")
        errors = mutated(detection_finding, lambda e: e["finding_info"]["analytic"].update(rule="x"))
        self.assertError(errors, "finding_info.analytic.rule", "unknown attribute")
        errors = mutated(web_resource_access_activity, lambda e: e["web_resources"][0].update(foo=1))
        self.assertError(errors, "web_resources[0].foo", "unknown attribute")
        # `api` outside API Activity belongs to the cloud profile
        errors = mutated(account_change, lambda e: e.update(api={"operation": "x"}))
        self.assertError(errors, "api", 'belongs to profile "cloud"')

    def test_bad_enum_value(self):
        cases = [
            (account_change, lambda e: e.update(severity_id=7, severity=None), "severity_id"),
            (account_change, lambda e: e.update(status_id=3, status=None), "status_id"),
            (account_change, lambda e: e["user"].update(type_id=5, type=None), "user.type_id"),
            (compliance_finding, lambda e: e["compliance"].update(status_id=4, status=None), "compliance.status_id"),
            (detection_finding, lambda e: e.update(status_id=7, status=None), "status_id"),
            (api_activity, lambda e: e["http_request"].update(http_method="FETCH"), "http_request.http_method"),
            (api_activity, lambda e: e["observables"][0].update(type_id=1000, type=None), "observables[0].type_id"),
        ]
        for make, mutate, path in cases:
            with self.subTest(path=path):
                self.assertError(mutated(make, mutate), path, "is not a valid value")

    def test_wrong_type(self):
        cases = [
            (lambda e: e.update(time="2026-01-01T00:00:00Z"), "time", "expected timestamp_t"),
            (lambda e: e.update(time=1767225600.5), "time", "expected timestamp_t"),
            (lambda e: e.update(severity_id="3"), "severity_id", "expected integer_t"),
            (lambda e: e.update(severity_id=True), "severity_id", "expected integer_t"),
            (lambda e: e.update(is_mfa="false"), "is_mfa", "expected boolean_t"),
            (lambda e: e.update(message=42), "message", "expected string_t"),
            (lambda e: e.update(user="alice"), "user", "expected object user"),
            (lambda e: e["metadata"].update(version=1.8), "metadata.version", "expected string_t"),
            (lambda e: e["src_endpoint"].update(ip="not-an-ip"), "src_endpoint.ip", "ip_t pattern"),
            (lambda e: e["src_endpoint"].update(port=70000), "src_endpoint.port", "port_t range"),
            (lambda e: e["user"].update(email_addr="alice"), "user.email_addr", "email_t pattern"),
            (lambda e: e["metadata"].update(profiles="cloud"), "metadata.profiles", "expected an array of string_t"),
        ]
        for mutate, path, fragment in cases:
            with self.subTest(path=path, fragment=fragment):
                self.assertError(mutated(authentication_logon_failure, mutate), path, fragment)

    def test_is_array(self):
        errors = mutated(user_access_management, lambda e: e.update(privileges="admin"))
        self.assertError(errors, "privileges", "expected an array of string_t")
        errors = mutated(web_resource_access_activity, lambda e: e.update(web_resources=e["web_resources"][0]))
        self.assertError(errors, "web_resources", "expected an array of object web_resource")
        errors = mutated(user_access_management, lambda e: e.update(privileges=["a", 1]))
        self.assertError(errors, "privileges[1]", "expected string_t")

    def test_unknown_class(self):
        errors = mutated(account_change, lambda e: e.update(class_uid=9999))
        self.assertError(errors, "class_uid", "unknown class_uid 9999")
        errors = mutated(account_change, lambda e: e.pop("class_uid"))
        self.assertError(errors, "class_uid", "required attribute is missing")
        errors = mutated(account_change, lambda e: e.update(class_uid="3001"))
        self.assertError(errors, "class_uid", "expected integer_t")

    def test_unknown_profile(self):
        errors = mutated(account_change, lambda e: e["metadata"].update(profiles=["nope"]))
        self.assertError(errors, "metadata.profiles[0]", "unknown profile 'nope'")

    def test_metadata_version_must_be_schema_version(self):
        errors = mutated(account_change, lambda e: e["metadata"].update(version="1.7.0"))
        self.assertError(errors, "metadata.version", "this schema is OCSF 1.8.0")

    def test_observable_name_must_be_a_class_path(self):
        errors = mutated(api_activity, lambda e: e["observables"][0].update(name="src.ip"))
        self.assertError(errors, "observables[0].name", "not an attribute path")

    def test_all_problems_are_reported(self):
        def many(event):
            event.pop("time")
            event.update(severity_id=42, bogus=1)
            event["user"]["type_id"] = "1"
        errors = mutated(account_change, many)
        paths = {path for path, _ in errors}
        self.assertTrue({"time", "severity_id", "bogus", "user.type_id"} <= paths, errors)


def run_cli(*args, stdin=None):
    return subprocess.run([sys.executable, SCRIPT] + list(args), input=stdin,
                          capture_output=True, text=True)


class CommandLine(unittest.TestCase):
    def test_stdin_and_error_format(self):
        good = json.dumps(account_change())
        bad = copy.deepcopy(account_change())
        del bad["user"]
        proc = run_cli("-", stdin=good + "\n\n" + json.dumps(bad) + "\nnot json\n")
        self.assertEqual(proc.returncode, 1, proc.stdout + proc.stderr)
        lines = proc.stdout.splitlines()
        self.assertIn("-:3: Account Change [3001]: user: required attribute is missing", lines)
        self.assertTrue(any(line.startswith("-:4: -: $: invalid JSON") for line in lines), lines)

    def test_duplicate_keys_rejected(self):
        proc = run_cli("-", stdin='{"class_uid": 3001, "class_uid": 3001}\n')
        self.assertEqual(proc.returncode, 1)
        self.assertIn("duplicate key", proc.stdout)

    def test_usage_and_schema_errors_exit_2(self):
        self.assertEqual(run_cli().returncode, 2)
        with tempfile.TemporaryDirectory() as empty:
            proc = run_cli("--schema", empty, "-", stdin="")
        self.assertEqual(proc.returncode, 2)
        self.assertIn("schema", proc.stderr)
        self.assertEqual(run_cli("/nonexistent/events.jsonl").returncode, 2)

    def test_min_events(self):
        self.assertEqual(run_cli("-", stdin="").returncode, 0)
        self.assertEqual(run_cli("--min-events", "1", "-", stdin="").returncode, 1)

    def test_describe(self):
        proc = run_cli("--describe", "3002")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("<event> at_least_one: service, dst_endpoint", proc.stdout)
        self.assertIn("  user  (object user)", proc.stdout)

    def test_warnings_for_deprecated_class(self):
        proc = run_cli("--warnings", "-", stdin=json.dumps(web_resource_access_activity()) + "\n")
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertIn("warning: class Web Resource Access Activity is deprecated", proc.stderr)


class SchemaCompilation(unittest.TestCase):
    def test_class_uids_follow_categories(self):
        with open(os.path.join(validate.DEFAULT_SCHEMA_DIR, "categories.json"), encoding="utf-8") as handle:
            categories = json.load(handle)
        uids = {c["caption"]: c["uid"] for c in categories["attributes"].values()}
        for cls in SCHEMA.classes.values():
            if cls.uid:
                self.assertEqual(cls.uid // 1000, uids[cls.category_caption])

    def test_profile_null_makes_attribute_unconditional(self):
        # api is a cloud-profile attribute in base_event; API Activity sets "profile": null.
        self.assertIsNone(SCHEMA.classes[6003].attributes["api"].get("profile"))
        self.assertEqual(SCHEMA.classes[6003].attributes["api"]["requirement"], "required")
        self.assertEqual(SCHEMA.classes[3001].attributes["api"]["profile"], "cloud")

    def test_activity_enums_merge_with_base_event(self):
        enum = SCHEMA.classes[3002].attributes["activity_id"]["enum"]
        self.assertEqual(enum["0"]["caption"], "Unknown")
        self.assertEqual(enum["99"]["caption"], "Other")
        self.assertEqual(enum["1"]["caption"], "Logon")

    def test_deep_merge(self):
        self.assertEqual(validate.deep_merge({"a": {"b": 1, "c": 2}}, {"a": {"c": 3}}), {"a": {"b": 1, "c": 3}})
        self.assertEqual(validate.deep_merge({"a": 1}, {"a": None}), {"a": None})


if __name__ == "__main__":
    unittest.main(verbosity=1)
