"""Faster emulated AWS for the tests and the local stack: the same answers, less CPU per call.

Profiling the integration tests (cProfile) showed the emulated AWS, not our code, taking most of their time, and in
it work whose result is known in advance:

``speed_up_moto()`` (the tests' interpreter and the local stack's moto server):
- The response serializer (moto 5.1+) walks every DynamoDB ``AttributeValue`` of every item it returns member by
  member (S, N, B, SS, NS, BS, M, L, NULL, BOOL), asking five alias providers per member where to find it in the
  value. An order with its lines is a deep map: a page of orders cost hundreds of thousands of lookups (0.5 s a
  Query). moto holds an item's values as dicts keyed by those very member names, so the member is read directly;
  every value is still written by moto's own per-type methods (strings, numbers, base64 blobs, booleans; maps and
  lists recurse through here), so the JSON is the same (``tests/unit/test_speedups.py`` compares both).
- The update-expression validator's traversal (every UpdateItem) asks each AST processor for its node-type map twice
  per node, which the processor builds anew each time, and tests the node against each of its types; the traversal
  is replaced by the same walk with the map built once per processor and the handler of a node type chosen once.
- Two of those processors check every sub-expression of an update by collecting all the actions below it again
  (quadratic in the actions: a posting state's SET of thirty attributes cost more than the write). The checks
  (at most one SET, REMOVE, ADD clause; no overlapping or duplicate paths) can only fail below the root if they fail
  at the root, since a sub-expression's actions are a part of the root's; so the root is checked first, and only
  when it fails does moto's own traversal run, raising its own error.
- An item's size is checked against DynamoDB's 400 KB limit once when moto builds it, not again after each of its
  attributes (quadratic in the item's size; the sizes only add up, so the answer is the same).

``share_botocore_loader()`` (the tests' interpreter): ``store.dynamo.client`` makes a boto3 session per service (as a
Lambda container does once), and every new session parses botocore's JSON service models again (tens of
milliseconds each, a megabyte for the endpoints). Tests start a new container per test (``new_container``), so
they parsed the same files hundreds of times; every session now gets one shared loader, which caches what it read
as each session's own loader does.

``aws_calls_untraced()`` (the tests' interpreter, while coverage runs): see below.

Each is idempotent and undone by ``restore()``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_ORIGINALS: dict[str, Any] = {}
_DYNAMODB_SERVICES = frozenset({"dynamodb", "dynamodbstreams"})


def speed_up_moto() -> None:
    """Patch moto (in this interpreter) with the shortcuts above."""
    if "structure" in _ORIGINALS:
        return
    serializer, traverser = _moto_classes()
    structure = serializer._serialize_type_structure
    ast_nodes, validators, dynamo_type = _moto_modules()

    def serialize_structure(self: Any, serialized: Any, value: Any, shape: Any, key: str) -> None:
        if (
            key
            and type(value) is dict
            and shape.name == "AttributeValue"
            and self.operation_model.service_model.service_name in _DYNAMODB_SERVICES
        ):
            wrapper = self.MAP_TYPE()
            for member_key, member_shape in shape.members.items():
                member_value = value.get(member_key)
                if member_value is not None:
                    self._serialize(wrapper, member_value, member_shape, member_key)
            self._default_serialize(serialized, wrapper, shape, key)
            return
        structure(self, serialized, value, shape, key)

    chosen: dict[tuple[type, type], Any] = {}  # (processor class, node type) -> its map's key, None: not processed

    def handler(self: Any, node_type: type) -> Any:
        """The processor of nodes of this type (None: not processed): the first key of the processor's map that the
        type is a subclass of, as moto's ``process`` picks it. The map (bound methods) is built once per processor
        object, the key once per processor class."""
        handlers = self.__dict__.get("_speedups_map")
        if handlers is None:
            handlers = self.__dict__["_speedups_map"] = self._processing_map()
        pair = (type(self), node_type)
        if pair not in chosen:
            chosen[pair] = next((key for key in handlers if issubclass(node_type, key)), None)
        key = chosen[pair]
        return None if key is None else handlers[key]

    def traverse_node_recursively(self: Any, node: Any, child_id: int = -1) -> Any:
        if isinstance(node, ast_nodes.Node):
            parent_node = node.parent
            if node.children is not None:
                for i, child_node in enumerate(node.children):
                    self.pre_processing_of_child(node, i)
                    self.traverse_node_recursively(child_node, i)
            processor = handler(self, type(node))
            if processor is not None:
                node = processor(node)
                node.parent = parent_node
                if parent_node:
                    parent_node.children[child_id] = node
        return node

    def root_first(check: str) -> Callable[[Any, Any], Any]:
        def traverse(self: Any, node: Any) -> Any:
            if isinstance(node, ast_nodes.UpdateExpression) and _passes(lambda: getattr(self, check)(node)):
                return node
            return self.traverse_node_recursively(node)  # (moto's traversal raises the error it raises)

        return traverse

    def item_init(self: Any, hash_key: Any, range_key: Any, attrs: dict[str, Any]) -> None:
        self.hash_key = hash_key
        self.range_key = range_key
        values = {key: dynamo_type.DynamoType(value) for key, value in attrs.items()}
        if sum(dynamo_type.bytesize(key) + value.size() for key, value in values.items()) > 405000:  # moto's limit
            raise dynamo_type.ItemSizeTooLarge
        self.attrs = dynamo_type.LimitedSizeDict()
        dict.update(self.attrs, values)

    _ORIGINALS["structure"] = structure
    _ORIGINALS["recursive"] = traverser.traverse_node_recursively
    _ORIGINALS["item"] = dynamo_type.Item.__init__
    serializer._serialize_type_structure = serialize_structure
    traverser.traverse_node_recursively = traverse_node_recursively
    validators.ActionCountValidator.traverse = root_first("verify_action_counts")
    validators.OverlappingPathsValidator.traverse = root_first("check_for_overlapping_paths")
    dynamo_type.Item.__init__ = item_init


def _passes(check: Callable[[], Any]) -> bool:
    try:
        check()
    except Exception:
        return False
    return True


def _moto_modules() -> tuple[Any, Any, Any]:
    """moto's update-expression AST, its validators, its item model."""
    from importlib import import_module

    names = ("parsing.ast_nodes", "parsing.validators", "models.dynamo_type")
    modules = tuple(import_module(f"moto.dynamodb.{name}") for name in names)
    return modules[0], modules[1], modules[2]


def _moto_classes() -> tuple[Any, Any]:
    from moto.core import serialize
    from moto.dynamodb.parsing import ast_nodes

    return serialize.BaseJSONSerializer, ast_nodes.DepthFirstTraverser  # type: ignore[attr-defined]


class _Paths(list[str]):
    """A shared loader's search paths: boto3 appends its data directory to every new session's loader."""

    def append(self, path: str) -> None:
        if path not in self:
            super().append(path)


def share_botocore_loader() -> None:
    """Every botocore session of this interpreter gets the same data loader (one per ``data_path`` setting)."""
    if "loader" in _ORIGINALS:
        return
    import botocore.loaders
    import botocore.session

    loaders: dict[Any, Any] = {}
    session: Any = botocore.session.Session
    register = session._register_data_loader

    def register_shared(self: Any) -> None:
        def shared() -> Any:
            path = self.get_config_variable("data_path")
            loader: Any = loaders.get(path)
            if loader is None:
                loader = botocore.loaders.create_loader(path)
                loader._search_paths = _Paths(loader.search_paths)
                loaders[path] = loader
            return loader

        self._components.lazy_register_component("data_loader", shared)

    _ORIGINALS["loader"] = register
    session._register_data_loader = register_shared


def active() -> set[str]:
    """The parts installed: "moto", "loader", "aws_calls"."""
    names = {"structure": "moto", "loader": "loader", "aws_calls": "aws_calls"}
    return {part for key, part in names.items() if key in _ORIGINALS}


def restore(*parts: str) -> None:
    """moto's and botocore's own methods again: ``parts`` of "moto", "loader", "aws_calls" (none: all of them)."""
    wanted = set(parts or ("moto", "loader", "aws_calls"))
    if "moto" in wanted and "structure" in _ORIGINALS:
        serializer, traverser = _moto_classes()
        serializer._serialize_type_structure = _ORIGINALS.pop("structure")
        traverser.traverse_node_recursively = _ORIGINALS.pop("recursive")
        _, validators, dynamo_type = _moto_modules()
        del validators.ActionCountValidator.traverse, validators.OverlappingPathsValidator.traverse
        dynamo_type.Item.__init__ = _ORIGINALS.pop("item")
    if "loader" in wanted and "loader" in _ORIGINALS:
        import botocore.session

        session: Any = botocore.session.Session
        session._register_data_loader = _ORIGINALS.pop("loader")
    if "aws_calls" in wanted and "aws_calls" in _ORIGINALS:
        import botocore.client

        client_class: Any = botocore.client.BaseClient
        client_class._make_api_call = _ORIGINALS.pop("aws_calls")


def aws_calls_untraced() -> None:
    """Run this interpreter's main-thread AWS calls in a thread that coverage does not trace.

    Coverage's tracer (``make test`` measures the shared layer) is told of every Python call, also of code it does not
    measure; in the integration tests that is mostly botocore and the in-process moto behind every AWS call, which
    took as long again as the tests themselves. A call made from the main thread is handed to a helper thread
    started with ``_thread`` (so coverage's ``threading.settrace`` does not reach it) and waited for; what it returns
    or raises comes back unchanged. Lines of our code, which run in the main thread, are measured as before."""
    if "aws_calls" in _ORIGINALS:
        return
    import _thread
    import queue
    import threading

    import botocore.client

    jobs: queue.SimpleQueue[tuple[Any, Any, list[tuple[bool, Any]]]] = queue.SimpleQueue()
    helper: list[int] = []

    def serve() -> None:
        helper.append(_thread.get_ident())
        while True:
            call, done, box = jobs.get()
            try:
                box.append((True, call()))
            except BaseException as error:  # (handed back to the caller as it was)
                box.append((False, error))
            done.release()

    _thread.start_new_thread(serve, ())
    client_class: Any = botocore.client.BaseClient
    original = client_class._make_api_call
    main = threading.main_thread().ident

    def make_api_call(self: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
        if _thread.get_ident() != main:
            return original(self, operation_name, api_params)
        done = _thread.allocate_lock()
        done.acquire()
        box: list[tuple[bool, Any]] = []
        jobs.put((lambda: original(self, operation_name, api_params), done, box))
        done.acquire()
        returned, value = box[0]
        if returned:
            return value
        raise value

    _ORIGINALS["aws_calls"] = original
    client_class._make_api_call = make_api_call
