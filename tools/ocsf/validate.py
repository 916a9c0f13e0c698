#!/usr/bin/env python3
"""Validate OCSF events (JSON lines) against the raw OCSF schema sources.

Usage::

    python3 tools/ocsf/validate.py [--schema DIR] [--warnings] FILE...
    python3 tools/ocsf/validate.py [--schema DIR] --describe CLASS

Each FILE holds one OCSF event per line (blank lines are ignored); ``-``
reads standard input.  ``DIR`` defaults to ``schema-1.8.0/`` next to this
script: an unmodified copy of the OCSF 1.8.0 schema repository files
(``dictionary.json``, ``categories.json``, ``version.json``, ``events/``,
``objects/``, ``profiles/``).  Standard library only.

Exit status: 0 when every event is valid (prints ``N events valid (classes:
...)``), 1 when at least one problem was found (one line per problem:
``FILE:LINE: <class>: <path>: <message>``), 2 on usage errors, unreadable
input files, or an unreadable/inconsistent schema.

How the schema is compiled
--------------------------
The raw repository is not a flat schema; it is compiled here the same way
the reference OCSF server does it:

* ``$include`` in an ``attributes`` block merges the attributes of the named
  file (a profile under ``profiles/`` or any other schema file) *under* the
  including item's own attributes (the includer wins on conflicts).  An
  attribute that comes from a profile file (``"meta": "profile"``) is tagged
  with that profile's name, and the profile's ``annotations`` (e.g.
  ``group``) are applied to it.  An attribute-level ``$include`` (an enum
  file) is merged the same way.
* ``extends`` chains are resolved recursively for classes (class -> parent
  class -> ``base_event``) and for objects (object -> parent object, e.g.
  ``user`` -> ``_entity`` -> ``object``).  Attributes are deep-merged (child
  wins, so enums are *merged*: a class's ``activity_id`` values are added to
  base_event's 0 Unknown / 99 Other); an attribute set to ``null`` by a child
  is removed; other keys (``constraints``, ``caption``...) are replaced by the
  child's; ``profiles`` lists are concatenated.  A child setting
  ``"profile": null`` on an attribute makes it unconditional.
* every attribute is then deep-merged over its ``dictionary.json`` entry,
  which gives it its type, ``is_array``, ``sibling`` and dictionary enum.
  Attributes without a ``requirement`` are optional.
* for each ``timestamp_t`` attribute ``x`` an optional ``x_dt`` attribute of
  type ``datetime_t`` is added, tagged with the ``datetime`` profile.
* a class's ``class_uid`` is ``category uid * 1000 + class uid`` (category
  uids from ``categories.json``; ``base_event`` is class 0, category 0), its
  ``type_uid`` values are ``class_uid * 100 + activity_id`` and their captions
  ``"<class caption>: <activity caption>"``.
* objects whose name starts with ``_`` are abstract (usable only as parents);
  an object with no attributes at all (``object``, the type of ``unmapped``)
  is free-form.

What is checked, for every event
--------------------------------
* the line is a JSON object (no duplicate keys, no NaN/Infinity);
* ``class_uid`` is present, an integer and names a known class; everything
  else is checked against that class;
* profiles: ``metadata.profiles`` names known profiles; only attributes that
  belong to no profile or to a listed profile are defined (so e.g. ``cloud``
  is unknown unless ``"cloud"`` is listed, and then it is required);
* classification: ``category_uid`` is the class's category, ``activity_id``
  one of the class's (merged) activity values, ``type_uid == class_uid * 100
  + activity_id``;
* required attributes (``"requirement": "required"``) are present and not
  null, at the top level and inside every object present (e.g.
  ``metadata.product``, ``metadata.version``, ``api.operation``);
* unknown attributes: every key must be defined for the class, and inside an
  object for that object (recursively); ``unmapped`` (type ``object``) is
  free-form;
* types, from ``dictionary.json`` ``types``: ``string_t`` and its subtypes
  are strings, checked against the subtype's ``regex`` (``email_t``,
  ``ip_t``, ``uuid_t``, ``mac_t``, ``datetime_t``, ``bytestring_t``) and
  ``max_len`` where given; ``integer_t``/``long_t`` (and ``timestamp_t``,
  integer milliseconds) are JSON integers within signed 64 bits and the
  type's ``range`` (``port_t``); ``float_t`` is a finite JSON number;
  ``boolean_t`` is ``true``/``false``; ``json_t`` is anything; object types
  are JSON objects; ``is_array`` attributes are arrays (of that type);
* enums: every attribute with an ``enum`` (class, object or dictionary
  definition, merged) holds one of its values; for array enums every element;
* siblings: when an enum attribute's ``sibling`` is present (``activity_name``,
  ``class_name``, ``category_name``, ``type_name``, ``severity``, ``status``,
  ``*_type`` ...), it must equal the caption of the id's value, except for
  99 (Other), whose sibling carries the source's own label;
* constraints (``at_least_one``, ``just_one``) of the class and of every
  object present (counting attributes present with a non-null value);
* ``metadata.version`` is the schema's version (``1.8.0``);
* ``observables[].name`` refers to an attribute path defined for the class.

Deprecated classes, objects, attributes and enum values are not errors; they
are reported as warnings on stderr with ``--warnings``.

``--describe CLASS`` (class_uid or class name) prints what a producer needs:
activity values, the required attributes flattened through required objects,
constraints, and the enums of the required enum attributes.
"""

import argparse
import json
import math
import os
import re
import sys

DEFAULT_SCHEMA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "schema-1.8.0")

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1

# Enum value whose sibling string is free-form (the source's own label).
OTHER_ENUM_VALUE = 99

VERSION_RE = re.compile(r"^\d+\.\d+\.\d+(?:-dev|-rc\.\d+)?$")


class SchemaError(Exception):
    """The schema directory cannot be read or compiled."""


def deep_merge(left, right):
    """Merge ``right`` over ``left`` (both JSON values) like the OCSF server.

    Two dicts are merged key by key, recursively; otherwise ``right`` wins
    (including ``None``).  As in the server, an empty dict on either side of
    a nested merge yields the other side.
    """
    if not isinstance(left, dict) or not isinstance(right, dict):
        return right
    merged = dict(left)
    for key, rval in right.items():
        if key in merged and isinstance(merged[key], dict) and isinstance(rval, dict):
            lval = merged[key]
            if not lval:
                merged[key] = rval
            elif not rval:
                merged[key] = lval
            else:
                merged[key] = deep_merge(lval, rval)
        else:
            merged[key] = rval
    return merged


def json_type_name(value):
    """A short description of a parsed JSON value's type, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def is_json_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


class Definition:
    """A compiled class or object: its resolved, dictionary-enriched attributes."""

    def __init__(self, kind, name, raw):
        self.kind = kind  # "class" or "object"
        self.name = name
        self.caption = raw.get("caption") or name
        self.attributes = {}  # name -> enriched attribute definition
        self.constraints = raw.get("constraints") or {}
        self.deprecated = raw.get("@deprecated")
        self.profiles = list(raw.get("profiles") or [])
        # Classes only:
        self.uid = None  # class_uid
        self.category_uid = None
        self.category_caption = None
        self.category_name = raw.get("category")

    def visible_attributes(self, profiles):
        """Attributes available when the event lists ``profiles``."""
        return {
            name: attr
            for name, attr in self.attributes.items()
            if attr.get("profile") is None or attr["profile"] in profiles
        }

    def label(self):
        if self.kind == "class":
            return "%s [%d]" % (self.caption, self.uid)
        return self.caption


class Schema:
    """The OCSF schema compiled from a raw schema repository directory."""

    def __init__(self, root):
        self.root = root
        self._json_cache = {}
        if not os.path.isdir(root):
            raise SchemaError("schema directory not found: %s" % root)
        self.version = self._load("version.json").get("version")
        dictionary = self._load("dictionary.json")
        try:
            self.types = dictionary["types"]["attributes"]
            self.dictionary = dictionary["attributes"]
        except (KeyError, TypeError):
            raise SchemaError("dictionary.json has no types/attributes")
        self.categories = self._load("categories.json").get("attributes") or {}
        self.profiles = {}  # name -> caption
        for rel in self._json_files("profiles"):
            data = self._load(rel)
            self.profiles[data.get("name")] = data.get("caption")
        self._regex_cache = {}
        self._raw = {"class": self._index("events"), "object": self._index("objects")}
        self._resolved = {"class": {}, "object": {}}
        self._objects = {}
        self.classes = {}  # class_uid -> Definition
        for name, raw in sorted(self._raw["class"].items()):
            # Classes without a uid are abstract parents (iam, finding...).
            if name == "base_event" or "uid" in raw:
                cls = self._build_class(name)
                if cls.uid in self.classes:
                    raise SchemaError(
                        "class_uid %d defined by both %s and %s"
                        % (cls.uid, self.classes[cls.uid].name, name)
                    )
                self.classes[cls.uid] = cls

    # -- raw files ---------------------------------------------------------

    def _load(self, rel):
        if rel not in self._json_cache:
            path = os.path.join(self.root, rel)
            try:
                with open(path, encoding="utf-8") as handle:
                    self._json_cache[rel] = json.load(handle)
            except (OSError, ValueError) as exc:
                raise SchemaError("cannot read schema file %s: %s" % (path, exc))
        return self._json_cache[rel]

    def _json_files(self, subdir):
        top = os.path.join(self.root, subdir)
        if not os.path.isdir(top):
            raise SchemaError("schema directory has no %s/" % subdir)
        found = []
        for dirpath, dirnames, filenames in os.walk(top):
            dirnames.sort()
            for filename in sorted(filenames):
                if filename.endswith(".json"):
                    found.append(os.path.relpath(os.path.join(dirpath, filename), self.root))
        return found

    def _index(self, subdir):
        items = {}
        for rel in self._json_files(subdir):
            data = self._load(rel)
            name = data.get("name")
            if not name:
                raise SchemaError("%s has no name" % rel)
            if name in items:
                raise SchemaError("%s: duplicate %s name %r" % (rel, subdir, name))
            if data.get("extends") == name:
                raise SchemaError("%s: patching (extends == name) is not supported" % rel)
            items[name] = data
        return items

    # -- compilation -------------------------------------------------------

    def _with_includes(self, data):
        """``data`` with its ``$include`` directives merged into its attributes."""
        attributes = dict(data.get("attributes") or {})
        includes = attributes.pop("$include", None)
        if isinstance(includes, str):
            includes = [includes]
        for rel in includes or []:
            # Included attributes go under the includer's own.
            attributes = deep_merge(self._included_attributes(rel), attributes)
        for name, attr in list(attributes.items()):
            if isinstance(attr, dict) and "$include" in attr:
                rest = {k: v for k, v in attr.items() if k != "$include"}
                attributes[name] = deep_merge(self._load(attr["$include"]), rest)
        result = dict(data)
        result["attributes"] = attributes
        return result

    def _included_attributes(self, rel):
        data = self._with_includes(self._load(rel))
        profile = data.get("name") if data.get("meta") == "profile" else None
        annotations = data.get("annotations") or {}
        attributes = {}
        for name, attr in data["attributes"].items():
            attr = dict(attr)
            if profile is not None:
                attr["profile"] = profile
            attributes[name] = deep_merge(annotations, attr)
        return attributes

    def _resolve(self, kind, name, chain=()):
        """The raw item with includes and its whole ``extends`` chain merged in."""
        if name in self._resolved[kind]:
            return self._resolved[kind][name]
        if name in chain:
            raise SchemaError("%s extends cycle: %s" % (kind, " -> ".join(chain + (name,))))
        raw = self._raw[kind].get(name)
        if raw is None:
            raise SchemaError("undefined %s %r (extended by %s)" % (kind, name, chain[-1] if chain else "?"))
        item = self._with_includes(raw)
        parent = item.get("extends")
        if parent:
            base = self._resolve(kind, parent, chain + (name,))
            attributes = deep_merge(base["attributes"], item["attributes"])
            merged = dict(base)
            for key, value in item.items():
                if key == "profiles":
                    merged[key] = list(dict.fromkeys((base.get(key) or []) + (value or [])))
                elif value is not None:
                    merged[key] = value
            merged["attributes"] = {k: v for k, v in attributes.items() if v is not None}
            merged["_parents"] = [parent] + base.get("_parents", [])
            item = merged
        self._resolved[kind][name] = item
        return item

    def _dictionary_attribute(self, name):
        entry = self.dictionary.get(name)
        if entry is None and name.endswith("_dt"):
            base = self.dictionary.get(name[:-3])
            if base is not None and base.get("type") == "timestamp_t":
                entry = dict(base, type="datetime_t")
        return entry

    def _finish(self, definition, resolved):
        """Add datetime attributes, default requirements, dictionary details."""
        attributes = dict(resolved["attributes"])
        for name, attr in list(attributes.items()):
            dt_name = name + "_dt"
            entry = self.dictionary.get(name) or {}
            if entry.get("type") == "timestamp_t" and dt_name not in attributes:
                attributes[dt_name] = dict(
                    attr, profile="datetime", requirement="optional", type="datetime_t"
                )
        for name, attr in attributes.items():
            entry = self._dictionary_attribute(name)
            if entry is None:
                raise SchemaError(
                    "%s %s uses attribute %r, which dictionary.json does not define"
                    % (definition.kind, definition.name, name)
                )
            attr = deep_merge(entry, attr)
            attr.setdefault("requirement", "optional")
            type_name = attr.get("type") or "string_t"
            if type_name not in self.types:
                if type_name not in self._raw["object"]:
                    raise SchemaError(
                        "%s %s attribute %r has unknown type %r"
                        % (definition.kind, definition.name, name, type_name)
                    )
                attr["_object"] = type_name
            attr["type"] = type_name
            definition.attributes[name] = attr

    def _build_class(self, name):
        resolved = self._resolve("class", name)
        cls = Definition("class", name, resolved)
        category = self.categories.get(resolved.get("category"))
        base_event = name == "base_event"
        if category is None and not base_event:
            raise SchemaError("class %s has unknown category %r" % (name, resolved.get("category")))
        self._finish(cls, resolved)
        attrs = cls.attributes
        if base_event:
            cls.uid, cls.category_uid = 0, 0
            cls.category_caption = attrs["category_uid"]["enum"]["0"]["caption"]
        else:
            cls.category_uid = category["uid"]
            cls.category_caption = category["caption"]
            cls.uid = cls.category_uid * 1000 + resolved["uid"]
        # Classification enums, as the reference server generates them.
        attrs["class_uid"] = dict(attrs["class_uid"], enum={str(cls.uid): {"caption": cls.caption}})
        attrs["category_uid"] = dict(
            attrs["category_uid"], enum={str(cls.category_uid): {"caption": cls.category_caption}}
        )
        activities = attrs["activity_id"].get("enum") or {}
        type_enum = {str(cls.uid * 100): {"caption": "%s: Unknown" % cls.caption}}
        for value, entry in activities.items():
            type_enum[str(cls.uid * 100 + int(value))] = {
                "caption": "%s: %s" % (cls.caption, entry.get("caption"))
            }
        attrs["type_uid"] = dict(attrs["type_uid"], enum=type_enum)
        return cls

    def object(self, name):
        """The compiled object ``name`` (built on first use)."""
        if name not in self._objects:
            resolved = self._resolve("object", name)
            obj = Definition("object", name, resolved)
            self._finish(obj, resolved)
            if name == "observable" and "type_id" in obj.attributes:
                type_id = obj.attributes["type_id"]
                enum = dict(self._observable_type_ids(), **(type_id.get("enum") or {}))
                obj.attributes["type_id"] = dict(type_id, enum=enum)
            self._objects[name] = obj
        return self._objects[name]

    def _observable_type_ids(self):
        """The observable ``type_id`` values the schema declares.

        observable.json only lists 0 and 99; the other values come from the
        ``observable`` numbers put on dictionary types and attributes, on
        objects and their attributes, and on class attributes (plus class
        ``observables`` path maps), as the reference server collects them.
        """
        found = {}

        def add(number, caption):
            found.setdefault(str(number), {"caption": caption})

        for name, entry in self.types.items():
            if "observable" in entry:
                add(entry["observable"], entry.get("caption") or name)
        for name, entry in self.dictionary.items():
            if "observable" in entry:
                add(entry["observable"], entry.get("caption") or name)
        for kind, items in self._raw.items():
            label = "Class" if kind == "class" else "Object"
            for name, raw in items.items():
                caption = raw.get("caption") or name
                if "observable" in raw:
                    add(raw["observable"], caption)
                for attr_name, attr in (raw.get("attributes") or {}).items():
                    if isinstance(attr, dict) and "observable" in attr:
                        add(attr["observable"], "%s %s: %s" % (caption, label, attr_name))
                for path, number in (raw.get("observables") or {}).items():
                    add(number, "%s %s: %s" % (caption, label, path))
        return found

    def find_class(self, key):
        """A class by class_uid (int or digits) or by name; None if unknown."""
        if is_json_int(key):
            return self.classes.get(key)
        if isinstance(key, str) and key.isdigit():
            return self.classes.get(int(key))
        for cls in self.classes.values():
            if key in (cls.name, cls.caption):
                return cls
        return None

    def regex(self, pattern):
        if pattern not in self._regex_cache:
            try:
                self._regex_cache[pattern] = re.compile(pattern, re.ASCII)
            except re.error as exc:
                raise SchemaError("dictionary regex %r does not compile: %s" % (pattern, exc))
        return self._regex_cache[pattern]

    def type_chain(self, type_name):
        """``[type, supertype, ...]`` for a dictionary type, e.g. timestamp_t, long_t."""
        chain = []
        while type_name and type_name not in chain:
            chain.append(type_name)
            type_name = (self.types.get(type_name) or {}).get("type")
        return chain


def plain(message):
    """A schema description/message without its HTML markup."""
    return re.sub(r"<[^>]+>", "", message or "")


def enum_caption(attr, value):
    entry = (attr.get("enum") or {}).get(str(value))
    return entry.get("caption") if isinstance(entry, dict) else None


def describe_enum(enum, limit=30):
    def order(key):
        return (0, int(key), "") if key.lstrip("-").isdigit() else (1, 0, key)

    items = ["%s %s" % (k, (v or {}).get("caption")) for k, v in sorted(enum.items(), key=lambda kv: order(kv[0]))]
    if len(items) > limit:
        items = items[:limit] + ["..."]
    return ", ".join(items)


def join_path(parent, name):
    return "%s.%s" % (parent, name) if parent else name


class EventValidator:
    """Validates parsed events against a :class:`Schema`."""

    def __init__(self, schema):
        self.schema = schema

    def validate(self, event):
        """Return ``(class_label, errors, warnings)``; problems are (path, message)."""
        self.errors = []
        self.warnings = []
        if not isinstance(event, dict):
            self.error("$", "event is a JSON %s, not an object" % json_type_name(event))
            return "-", self.errors, self.warnings
        cls = self.find_class(event)
        if cls is None:
            return "-", self.errors, self.warnings
        if cls.deprecated:
            self.warn("$", "class %s is deprecated: %s" % (cls.caption, plain(cls.deprecated.get("message"))))
        profiles = self.event_profiles(event)
        self.check_object(event, cls, "", profiles)
        self.check_type_uid(event, cls)
        self.check_version(event)
        self.check_observables(event, cls, profiles)
        return cls.label(), self.errors, self.warnings

    def error(self, path, message):
        self.errors.append((path, message))

    def warn(self, path, message):
        self.warnings.append((path, message))

    # -- event-level checks ------------------------------------------------

    def find_class(self, event):
        class_uid = event.get("class_uid")
        if class_uid is None:
            self.error("class_uid", "required attribute is missing; cannot pick a class")
            return None
        if not is_json_int(class_uid):
            self.error("class_uid", "expected integer_t, got %s" % json_type_name(class_uid))
            return None
        cls = self.schema.classes.get(class_uid)
        if cls is None:
            self.error(
                "class_uid",
                "unknown class_uid %d: no class in schema %s has it" % (class_uid, self.schema.root),
            )
        return cls

    def event_profiles(self, event):
        metadata = event.get("metadata")
        profiles = metadata.get("profiles") if isinstance(metadata, dict) else None
        if not isinstance(profiles, list):
            return set()  # a wrong type is reported by the metadata object check
        for index, profile in enumerate(profiles):
            if isinstance(profile, str) and profile not in self.schema.profiles:
                self.error(
                    "metadata.profiles[%d]" % index,
                    "unknown profile %r (known: %s)" % (profile, ", ".join(sorted(self.schema.profiles))),
                )
        return {p for p in profiles if isinstance(p, str)}

    def check_type_uid(self, event, cls):
        class_uid, activity_id, type_uid = event.get("class_uid"), event.get("activity_id"), event.get("type_uid")
        if not is_json_int(type_uid):
            return  # missing or wrong type: already reported
        if is_json_int(activity_id):
            expected = class_uid * 100 + activity_id
            if type_uid != expected:
                self.error(
                    "type_uid",
                    "is %d, expected class_uid * 100 + activity_id = %d * 100 + %d = %d"
                    % (type_uid, class_uid, activity_id, expected),
                )
        elif str(type_uid) not in cls.attributes["type_uid"]["enum"]:
            self.error("type_uid", "%d is not a type of class %s" % (type_uid, cls.label()))

    def check_version(self, event):
        metadata = event.get("metadata")
        version = metadata.get("version") if isinstance(metadata, dict) else None
        if not isinstance(version, str):
            return  # missing or wrong type: already reported
        if not VERSION_RE.match(version):
            self.error("metadata.version", "%r is not an OCSF version (x.y.z)" % version)
        elif version != self.schema.version:
            self.error(
                "metadata.version",
                "is %r but this schema is OCSF %s" % (version, self.schema.version),
            )

    def check_observables(self, event, cls, profiles):
        observables = event.get("observables")
        if not isinstance(observables, list):
            return
        for index, observable in enumerate(observables):
            name = observable.get("name") if isinstance(observable, dict) else None
            if isinstance(name, str) and not self.attribute_path_defined(cls, name.split("."), profiles):
                self.error(
                    "observables[%d].name" % index,
                    "%r is not an attribute path of class %s" % (name, cls.caption),
                )

    def attribute_path_defined(self, definition, parts, profiles):
        attr = definition.visible_attributes(profiles).get(parts[0])
        if attr is None:
            return False
        if len(parts) == 1:
            return True
        if "_object" not in attr:
            return False
        return self.attribute_path_defined(self.schema.object(attr["_object"]), parts[1:], profiles)

    # -- objects and attributes --------------------------------------------

    def check_object(self, item, definition, path, profiles):
        """Check a JSON object against a class or object definition."""
        if definition.kind == "object" and not definition.attributes:
            return  # free-form object (e.g. "unmapped")
        visible = definition.visible_attributes(profiles)
        for key in item:
            if key not in visible:
                hint = ""
                if key in definition.attributes:
                    hint = ' (it belongs to profile "%s", which metadata.profiles does not list)' % (
                        definition.attributes[key]["profile"]
                    )
                self.error(
                    join_path(path, key),
                    "unknown attribute: not defined in %s %s%s" % (definition.kind, definition.name, hint),
                )
        for name, attr in sorted(visible.items()):
            attr_path = join_path(path, name)
            value = item.get(name)
            if value is None:
                if attr["requirement"] == "required":
                    self.error(
                        attr_path,
                        "required attribute is %s" % ("null" if name in item else "missing"),
                    )
                continue
            if attr.get("@deprecated"):
                self.warn(attr_path, "attribute is deprecated: %s" % plain(attr["@deprecated"].get("message")))
            self.check_value(value, attr, attr_path, profiles)
        self.check_siblings(item, visible, path)
        self.check_constraints(item, definition, path)

    def check_value(self, value, attr, path, profiles):
        if attr.get("is_array"):
            if not isinstance(value, list):
                self.error(path, "expected an array of %s, got %s" % (self.type_label(attr), json_type_name(value)))
                return
            for index, element in enumerate(value):
                self.check_single(element, attr, "%s[%d]" % (path, index), profiles)
        else:
            self.check_single(value, attr, path, profiles)

    def type_label(self, attr):
        return "object %s" % attr["_object"] if "_object" in attr else attr["type"]

    def check_single(self, value, attr, path, profiles):
        object_name = attr.get("_object")
        if object_name is not None:
            if not isinstance(value, dict):
                self.error(path, "expected object %s, got %s" % (object_name, json_type_name(value)))
                return
            obj = self.schema.object(object_name)
            if obj.deprecated:
                self.warn(path, "object %s is deprecated: %s" % (object_name, plain(obj.deprecated.get("message"))))
            self.check_object(value, obj, path, profiles)
            return
        if not self.check_primitive(value, attr["type"], path):
            return
        enum = attr.get("enum")
        if enum and path != "type_uid":  # type_uid has its own check
            entry = enum.get(str(value))
            if entry is None:
                self.error(
                    path,
                    "%s is not a valid value (allowed: %s)" % (json.dumps(value), describe_enum(enum)),
                )
            elif isinstance(entry, dict) and entry.get("@deprecated"):
                self.warn(path, "enum value %s is deprecated: %s" % (value, plain(entry["@deprecated"].get("message"))))

    def check_primitive(self, value, type_name, path):
        """Check a value against a dictionary type; False if the type is wrong."""
        chain = self.schema.type_chain(type_name)
        primitive = chain[-1]

        def wrong():
            self.error(path, "expected %s, got %s %s" % (type_name, json_type_name(value), json.dumps(value)[:60]))
            return False

        if primitive == "json_t":
            return True
        if primitive == "boolean_t":
            if not isinstance(value, bool):
                return wrong()
        elif primitive in ("integer_t", "long_t"):
            if not is_json_int(value) or not INT64_MIN <= value <= INT64_MAX:
                return wrong()
        elif primitive == "float_t":
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                return wrong()
        elif primitive == "string_t":
            if not isinstance(value, str):
                return wrong()
        else:
            raise SchemaError("type %s has unsupported base type %s" % (type_name, primitive))
        # Constraints of the type itself, else of its nearest supertype.
        for key in ("range", "max_len", "regex", "values"):
            spec = next((self.schema.types[t][key] for t in chain if key in self.schema.types[t]), None)
            if spec is None:
                continue
            if key == "range" and not spec[0] <= value <= spec[1]:
                self.error(path, "%s is outside the %s range %s..%s" % (value, type_name, spec[0], spec[1]))
            elif key == "max_len" and len(value) > spec:
                self.error(path, "string of length %d exceeds %s max_len %d" % (len(value), type_name, spec))
            elif key == "regex" and not self.schema.regex(spec).search(value):
                self.error(path, "%s does not match the %s pattern" % (json.dumps(value), type_name))
            elif key == "values" and value not in spec:
                self.error(path, "%s is not one of the %s values %s" % (json.dumps(value), type_name, spec))
        return True

    def check_siblings(self, item, attributes, path):
        """An enum's sibling string, when present, is the caption of its value."""
        for name, attr in attributes.items():
            sibling = attr.get("sibling")
            if not sibling or not attr.get("enum") or sibling not in item:
                continue
            value, label = item.get(name), item.get(sibling)
            if attr.get("is_array"):
                if isinstance(value, list) and isinstance(label, list):
                    for index, element in enumerate(value):
                        self.check_sibling(attr, element, label[index] if index < len(label) else None,
                                           "%s[%d]" % (join_path(path, sibling), index), name)
            else:
                self.check_sibling(attr, value, label, join_path(path, sibling), name)

    def check_sibling(self, attr, value, label, path, id_name):
        if not is_json_int(value) and not isinstance(value, str):
            return  # id missing or of the wrong type: reported elsewhere
        caption = enum_caption(attr, value)
        if caption is None or label is None:
            return  # bad id value: reported elsewhere; null label: nothing to compare
        if not isinstance(label, str):
            return  # wrong type: reported by the type check
        if value == OTHER_ENUM_VALUE:
            return  # 99 (Other): the label is the source's own value
        if label != caption:
            self.error(path, "is %s but %s %s means %s" % (json.dumps(label), id_name, value, json.dumps(caption)))

    def check_constraints(self, item, definition, path):
        present = {key for key, value in item.items() if value is not None}
        where = "%s %s" % (definition.kind, definition.name)
        for kind, names in sorted(definition.constraints.items()):
            count = len(present.intersection(names))
            if kind == "at_least_one" and count == 0:
                self.error(path or "$", "%s requires at least one of: %s" % (where, ", ".join(names)))
            elif kind == "just_one" and count != 1:
                self.error(
                    path or "$",
                    "%s requires exactly one of: %s (found %d)" % (where, ", ".join(names), count),
                )
            elif kind not in ("at_least_one", "just_one"):
                raise SchemaError("%s has unsupported constraint %r" % (where, kind))


# -- JSON lines input ---------------------------------------------------------


def _reject_constant(name):
    raise ValueError("%s is not valid JSON" % name)


def _no_duplicate_keys(pairs):
    result = {}
    for key, value in pairs:
        if key in result:
            raise ValueError("duplicate key %r" % key)
        result[key] = value
    return result


def parse_event(line):
    return json.loads(line, object_pairs_hook=_no_duplicate_keys, parse_constant=_reject_constant)


def read_lines(filename):
    if filename == "-":
        return sys.stdin.read().splitlines()
    with open(filename, encoding="utf-8") as handle:
        return handle.read().splitlines()


def validate_files(schema, filenames, out=sys.stdout, err=sys.stderr, show_warnings=False):
    """Validate JSON-lines files; return ``(events, invalid_events, classes)``."""
    validator = EventValidator(schema)
    events = invalid = 0
    classes = {}
    for filename in filenames:
        for number, line in enumerate(read_lines(filename), start=1):
            if not line.strip():
                continue
            events += 1
            where = "%s:%d" % (filename, number)
            try:
                event = parse_event(line)
            except ValueError as exc:
                invalid += 1
                out.write("%s: -: $: invalid JSON: %s\n" % (where, exc))
                continue
            label, errors, warnings = validator.validate(event)
            for path, message in errors:
                out.write("%s: %s: %s: %s\n" % (where, label, path, message))
            if show_warnings:
                for path, message in warnings:
                    err.write("%s: %s: %s: warning: %s\n" % (where, label, path, message))
            if errors:
                invalid += 1
            else:
                classes[label] = classes.get(label, 0) + 1
    return events, invalid, classes


# -- --describe ---------------------------------------------------------------


def describe_class(schema, cls, profiles=(), out=sys.stdout):
    """Print what a producer of ``cls`` events must provide."""
    write = out.write
    write("%s: class_uid %d, category_uid %d (%s)%s\n" % (
        cls.caption, cls.uid, cls.category_uid, cls.category_caption,
        "  [DEPRECATED: %s]" % plain(cls.deprecated.get("message")) if cls.deprecated else ""))
    write("activity_id: %s\n" % describe_enum(cls.attributes["activity_id"].get("enum") or {}, limit=100))
    write("type_uid / type_name:\n")
    for value, entry in sorted(cls.attributes["type_uid"]["enum"].items(), key=lambda kv: int(kv[0])):
        write("  %s %s\n" % (value, entry["caption"]))
    profiles = set(profiles)
    enums = {}

    def walk(definition, prefix, only_required, depth, lines):
        """Collect required attributes and constraints below ``definition``.

        Follows required object attributes all the way down; with
        ``only_required`` false it also enters non-required object
        attributes (up to ``depth`` levels), whose requirements only apply
        when the producer includes that object.
        """
        visible = definition.visible_attributes(profiles)
        for kind, names in sorted(definition.constraints.items()):
            lines.append("  %s%s: %s" % (prefix or "<event> ", kind, ", ".join(names)))
        for name, attr in sorted(visible.items()):
            path = prefix + name
            required = attr["requirement"] == "required"
            if required:
                lines.append("  %s  (%s%s)" % (path, "array of " if attr.get("is_array") else "", schema_type_label(attr)))
                if attr.get("enum") and name not in ("class_uid", "category_uid", "type_uid", "activity_id"):
                    enums[path] = attr["enum"]
            if "_object" in attr and (required or (not only_required and depth > 0)):
                child_prefix = path + ("[]." if attr.get("is_array") else ".")
                walk(schema.object(attr["_object"]), child_prefix, only_required and required,
                     depth if required else depth - 1, lines)

    lines = []
    walk(cls, "", True, 0, lines)
    write("required (with profiles: %s):\n" % (", ".join(sorted(profiles)) or "none"))
    write("".join(line + "\n" for line in lines))
    for path, enum in sorted(enums.items()):
        write("enum %s: %s\n" % (path, describe_enum(enum, limit=100)))
    required_lines = set(lines)
    lines = []
    walk(cls, "", False, 2, lines)
    extra = [line for line in lines if line not in required_lines]
    write("required only when the enclosing optional/recommended object is present (up to 2 optional levels deep):\n")
    write("".join(line + "\n" for line in extra))


def schema_type_label(attr):
    return "object %s" % attr["_object"] if "_object" in attr else attr["type"]


# -- command line -------------------------------------------------------------


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Validate OCSF events (one JSON object per line) against the OCSF schema.",
    )
    parser.add_argument("--schema", default=DEFAULT_SCHEMA_DIR,
                        help="raw OCSF schema repository directory (default: %(default)s)")
    parser.add_argument("--warnings", action="store_true",
                        help="also print deprecation warnings (to stderr); they never fail validation")
    parser.add_argument("--min-events", type=int, default=0, metavar="N",
                        help="fail (exit 1) if fewer than N events were read (default 0)")
    parser.add_argument("--describe", metavar="CLASS",
                        help="print the requirements of a class (class_uid or name) and exit")
    parser.add_argument("--profile", action="append", default=[], metavar="NAME",
                        help="with --describe: assume this profile is listed in metadata.profiles")
    parser.add_argument("files", nargs="*", metavar="FILE", help="JSON-lines file, or - for stdin")
    args = parser.parse_args(argv)
    if not args.describe and not args.files:
        parser.error("no input FILE given")

    try:
        schema = Schema(args.schema)
        if args.describe:
            cls = schema.find_class(args.describe)
            if cls is None:
                parser.error("unknown class %r" % args.describe)
            describe_class(schema, cls, args.profile)
            return 0
        try:
            events, invalid, classes = validate_files(
                schema, args.files, show_warnings=args.warnings)
        except OSError as exc:
            sys.stderr.write("validate.py: cannot read input: %s\n" % exc)
            return 2
    except SchemaError as exc:
        sys.stderr.write("validate.py: schema %s: %s\n" % (args.schema, exc))
        return 2

    if invalid:
        sys.stderr.write("validate.py: %d of %d events invalid\n" % (invalid, events))
        return 1
    if events < args.min_events:
        sys.stderr.write("validate.py: only %d events read, expected at least %d\n" % (events, args.min_events))
        return 1
    summary = ", ".join("%s x%d" % (label, count) for label, count in sorted(classes.items()))
    sys.stdout.write("%d events valid (classes: %s)\n" % (events, summary or "none"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
