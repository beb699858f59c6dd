"""Message classes from a .proto file at run time, with only the ``protobuf``
package from pip: no protoc, no generated code.

It reads the subset of proto3 that our protocol files use (a package,
messages, nested messages and enums, ``optional``/``repeated`` fields, and
``oneof``; ``import``, ``option``, ``reserved`` and ``service`` blocks are
skipped), builds a FileDescriptorProto from it and lets protobuf make the
classes. Type names are resolved from the innermost scope outwards, as protoc
does.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.internal.enum_type_wrapper import EnumTypeWrapper

FieldType = descriptor_pb2.FieldDescriptorProto
SCALARS = {
    "double": FieldType.TYPE_DOUBLE,
    "float": FieldType.TYPE_FLOAT,
    "int64": FieldType.TYPE_INT64,
    "uint64": FieldType.TYPE_UINT64,
    "int32": FieldType.TYPE_INT32,
    "uint32": FieldType.TYPE_UINT32,
    "sint64": FieldType.TYPE_SINT64,
    "sint32": FieldType.TYPE_SINT32,
    "fixed64": FieldType.TYPE_FIXED64,
    "fixed32": FieldType.TYPE_FIXED32,
    "bool": FieldType.TYPE_BOOL,
    "string": FieldType.TYPE_STRING,
    "bytes": FieldType.TYPE_BYTES,
}
TOKEN = re.compile(r'"[^"]*"|[A-Za-z_][\w.]*|-?\d+|[{}=;<>,\[\]()]')


class ProtoParser:
    def __init__(self, text: str) -> None:
        text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
        self.tokens = TOKEN.findall(re.sub(r"//[^\n]*", " ", text))
        self.at = 0
        self.file = descriptor_pb2.FileDescriptorProto(syntax="proto3")
        # Message fields whose type is a name, resolved once every type is known.
        self.unresolved: list[tuple[descriptor_pb2.FieldDescriptorProto, str]] = []
        self.enums: set[str] = set()
        self.messages: set[str] = set()

    def take(self, expected: str | None = None) -> str:
        token = self.tokens[self.at]
        self.at += 1
        if expected is not None and token != expected:
            raise SyntaxError(f"expected {expected!r}, found {token!r}")
        return token

    def skip_statement(self) -> None:
        """Skips to the end of a statement or of a balanced { } block."""
        depth = 0
        while True:
            token = self.take()
            depth += {"{": 1, "}": -1}.get(token, 0)
            if depth == 0 and token in (";", "}"):
                return

    def parse(self) -> descriptor_pb2.FileDescriptorProto:
        while self.at < len(self.tokens):
            keyword = self.take()
            if keyword == "package":
                self.file.package = self.take()
                self.take(";")
            elif keyword == "message":
                self.message(self.file.message_type.add(), self.file.package)
            elif keyword == "enum":
                self.enum(self.file.enum_type.add(), self.file.package)
            else:
                self.skip_statement()
        for field, scope_and_name in self.unresolved:
            self.resolve(field, *scope_and_name.split("|"))
        return self.file

    def enum(self, enum: descriptor_pb2.EnumDescriptorProto, scope: str) -> None:
        enum.name = self.take()
        self.enums.add(f"{scope}.{enum.name}")
        self.take("{")
        while self.tokens[self.at] != "}":
            if self.tokens[self.at] in ("option", "reserved"):
                self.skip_statement()
                continue
            name = self.take()
            self.take("=")
            enum.value.add(name=name, number=int(self.take()))
            self.skip_statement()
        self.take("}")

    def message(self, message: descriptor_pb2.DescriptorProto, scope: str) -> None:
        message.name = self.take()
        full_name = f"{scope}.{message.name}"
        self.messages.add(full_name)
        self.take("{")
        self.body(message, full_name, oneof=None)
        # proto3 `optional` fields each get a synthetic oneof, after the real ones.
        for field in message.field:
            if field.proto3_optional:
                field.oneof_index = len(message.oneof_decl)
                message.oneof_decl.add(name=f"_{field.name}")

    def body(self, message: descriptor_pb2.DescriptorProto, full_name: str, oneof: int | None) -> None:
        while (token := self.take()) != "}":
            if token == "message":
                self.message(message.nested_type.add(), full_name)
            elif token == "enum":
                self.enum(message.enum_type.add(), full_name)
            elif token == "oneof":
                message.oneof_decl.add(name=self.take())
                self.take("{")
                self.body(message, full_name, oneof=len(message.oneof_decl) - 1)
            elif token in ("option", "reserved"):
                self.at -= 1
                self.skip_statement()
            else:
                field = message.field.add(label=FieldType.LABEL_OPTIONAL)
                if token == "repeated":
                    field.label = FieldType.LABEL_REPEATED
                    token = self.take()
                elif token == "optional":
                    field.proto3_optional = True
                    token = self.take()
                field.name = self.take()
                field.json_name = re.sub(r"_(\w)", lambda m: m.group(1).upper(), field.name)
                self.take("=")
                field.number = int(self.take())
                if oneof is not None:
                    field.oneof_index = oneof
                if token in SCALARS:
                    field.type = SCALARS[token]
                else:
                    self.unresolved.append((field, f"{full_name}|{token}"))
                self.skip_statement()

    def resolve(self, field: descriptor_pb2.FieldDescriptorProto, scope: str, name: str) -> None:
        while True:
            candidate = f"{scope}.{name}" if scope else name
            if candidate in self.messages or candidate in self.enums:
                field.type_name = "." + candidate
                field.type = FieldType.TYPE_MESSAGE if candidate in self.messages else FieldType.TYPE_ENUM
                return
            if not scope:
                raise SyntaxError(f"unknown type {name!r}")
            scope = scope.rpartition(".")[0]


def load_messages(path: str | Path) -> dict[str, Any]:
    """The top-level messages (classes) and enums (name <-> number wrappers)
    of the .proto file at `path`, by name."""
    proto = ProtoParser(Path(path).read_text()).parse()
    proto.name = Path(path).name
    pool = descriptor_pool.DescriptorPool()
    pool.Add(proto)
    found: dict[str, Any] = {
        enum.name: EnumTypeWrapper(pool.FindEnumTypeByName(f"{proto.package}.{enum.name}")) for enum in proto.enum_type
    }
    for message in proto.message_type:
        descriptor = pool.FindMessageTypeByName(f"{proto.package}.{message.name}")
        found[message.name] = message_factory.GetMessageClass(descriptor)
    return found
