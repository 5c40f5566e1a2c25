"""Tree-sitter queries that find definitions and imports, one `OutlineSpec` per grammar.

Definition queries capture the whole definition as `@definition.<kind>` (function, class,
method or constant) and its name as `@name`; optionally `@body` (the header ends where it
starts), `@header_end` (the header ends where it ends) and `@container` (the enclosing
type, where the tree does not nest the definition inside it, as for Go methods or Lua's
`function M.f()`). Import queries capture `@module` and, for named imports, `@symbol`.

Types (interfaces, structs, enums, traits, type aliases) are indexed with kind "class".
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class OutlineSpec:
    """How to outline one grammar: its queries and the node types that scope definitions."""

    definitions: str
    imports: str = ""
    # class-like node type -> the field that holds its name (functions inside become methods)
    containers: dict[str, str] = field(default_factory=dict)
    # function-like node types: definitions inside them are local and not indexed
    scopes: frozenset[str] = frozenset()
    docstrings: bool = False  # Python: the doc is the first string in the body
    all_constants: bool = False  # constant captures are constants whatever their case


PYTHON = OutlineSpec(
    definitions="""
    (function_definition name: (identifier) @name body: (block) @body) @definition.function
    (class_definition name: (identifier) @name body: (block) @body) @definition.class
    (module (expression_statement (assignment left: (identifier) @name)) @definition.constant)
    (class_definition body: (block (expression_statement (assignment left: (identifier) @name))
                                   @definition.constant))
    """,
    imports="""
    (import_statement name: [(dotted_name) @module (aliased_import name: (dotted_name) @module)])
    (import_from_statement module_name: (_) @module
        name: [(dotted_name) @symbol (aliased_import name: (dotted_name) @symbol)])
    (import_from_statement module_name: (_) @module (wildcard_import) @symbol)
    """,
    containers={"class_definition": "name"},
    scopes=frozenset({"function_definition", "lambda"}),
    docstrings=True,
)

_JS_DEFINITIONS = """
(function_declaration name: (identifier) @name body: (_) @body) @definition.function
(generator_function_declaration name: (identifier) @name body: (_) @body) @definition.function
(class_declaration name: (_) @name body: (class_body) @body) @definition.class
(class_body (method_definition name: (_) @name body: (_) @body) @definition.method)
(program (lexical_declaration (variable_declarator name: (identifier) @name
    value: [(arrow_function body: (_) @body) (function_expression body: (_) @body)])) @definition.function)
(export_statement (lexical_declaration (variable_declarator name: (identifier) @name
    value: [(arrow_function body: (_) @body) (function_expression body: (_) @body)])) @definition.function)
(program (lexical_declaration (variable_declarator name: (identifier) @name
    value: [(number) (string) (template_string) (true) (false) (object) (array)])) @definition.constant)
(export_statement (lexical_declaration (variable_declarator name: (identifier) @name
    value: [(number) (string) (template_string) (true) (false) (object) (array)])) @definition.constant)
(program (lexical_declaration (variable_declarator name: (identifier) value: (object
    (method_definition name: (property_identifier) @name body: (_) @body) @definition.method))))
(export_statement (lexical_declaration (variable_declarator name: (identifier) value: (object
    (method_definition name: (property_identifier) @name body: (_) @body) @definition.method))))
(program (lexical_declaration (variable_declarator name: (identifier) value: (object
    (pair key: (property_identifier) @name value: [(arrow_function body: (_) @body)
        (function_expression body: (_) @body)]) @definition.method))))
(export_statement (lexical_declaration (variable_declarator name: (identifier) value: (object
    (pair key: (property_identifier) @name value: [(arrow_function body: (_) @body)
        (function_expression body: (_) @body)]) @definition.method))))
(program (expression_statement (assignment_expression
    left: (member_expression property: (property_identifier) @name)
    right: [(arrow_function body: (_) @body) (function_expression body: (_) @body)])) @definition.function)
"""

_TS_DEFINITIONS = _JS_DEFINITIONS + """
(abstract_class_declaration name: (_) @name body: (class_body) @body) @definition.class
(interface_declaration name: (_) @name body: (_) @body) @definition.class
(enum_declaration name: (_) @name body: (_) @body) @definition.class
(type_alias_declaration name: (_) @name) @definition.class
(function_signature name: (_) @name) @definition.function
(class_body (abstract_method_signature name: (_) @name) @definition.method)
(class_body (method_signature name: (_) @name) @definition.method)
(interface_body (method_signature name: (_) @name) @definition.method)
"""

_JS_IMPORTS = """
(import_statement (import_clause (named_imports (import_specifier name: (_) @symbol))) source: (string) @module)
(import_statement source: (string) @module)
(export_statement (export_clause (export_specifier name: (_) @symbol)) source: (string) @module)
(export_statement source: (string) @module)
(call_expression function: (identifier) @_require arguments: (arguments . (string) @module)
    (#eq? @_require "require"))
(call_expression function: (import) arguments: (arguments . (string) @module))
"""

_JS_SCOPES = frozenset({"function_declaration", "generator_function_declaration", "function_expression",
                        "arrow_function", "method_definition", "generator_function"})

JAVASCRIPT = OutlineSpec(
    definitions=_JS_DEFINITIONS,
    imports=_JS_IMPORTS,
    containers={"class_declaration": "name", "class": "name", "variable_declarator": "name"},
    scopes=_JS_SCOPES,
)

TYPESCRIPT = OutlineSpec(
    definitions=_TS_DEFINITIONS,
    imports=_JS_IMPORTS + """
    (import_require_clause source: (string) @module)
    """,
    containers={"class_declaration": "name", "class": "name", "abstract_class_declaration": "name",
                "interface_declaration": "name", "variable_declarator": "name"},
    scopes=_JS_SCOPES,
)

GO = OutlineSpec(
    definitions="""
    (function_declaration name: (identifier) @name body: (block) @body) @definition.function
    (method_declaration
        receiver: (parameter_list (parameter_declaration type: [(type_identifier) @container
            (pointer_type (type_identifier) @container) (generic_type type: (type_identifier) @container)
            (pointer_type (generic_type type: (type_identifier) @container))]))
        name: (field_identifier) @name body: (block) @body) @definition.method
    (type_spec name: (type_identifier) @name
        type: [(struct_type (field_declaration_list) @body) (interface_type "{" @body)]) @definition.class
    (type_spec name: (type_identifier) @name type: [(type_identifier) (qualified_type) (function_type)
        (map_type) (slice_type) (array_type) (pointer_type) (channel_type) (generic_type)]) @definition.class
    (type_spec name: (type_identifier) @container
        type: (interface_type (method_elem name: (field_identifier) @name) @definition.method))
    (type_alias name: (type_identifier) @name) @definition.class
    (const_spec name: (identifier) @name) @definition.constant
    """,
    imports="(import_spec path: (_) @module)",
    scopes=frozenset({"function_declaration", "method_declaration", "func_literal"}),
    all_constants=True,
)

RUST = OutlineSpec(
    definitions="""
    (function_item name: (identifier) @name body: (block) @body) @definition.function
    (function_signature_item name: (identifier) @name) @definition.function
    (struct_item name: (type_identifier) @name body: (_) @body) @definition.class
    (struct_item name: (type_identifier) @name !body) @definition.class
    (enum_item name: (type_identifier) @name body: (_) @body) @definition.class
    (union_item name: (type_identifier) @name body: (_) @body) @definition.class
    (trait_item name: (type_identifier) @name body: (_) @body) @definition.class
    (type_item name: (type_identifier) @name) @definition.class
    (const_item name: (identifier) @name) @definition.constant
    (static_item name: (identifier) @name) @definition.constant
    (macro_definition name: (identifier) @name @header_end) @definition.function
    """,
    imports="(use_declaration argument: (_) @module)",
    containers={"impl_item": "type", "trait_item": "name"},
    scopes=frozenset({"function_item", "closure_expression"}),
    all_constants=True,
)

JAVA = OutlineSpec(
    definitions="""
    (class_declaration name: (identifier) @name body: (_) @body) @definition.class
    (interface_declaration name: (identifier) @name body: (_) @body) @definition.class
    (enum_declaration name: (identifier) @name body: (_) @body) @definition.class
    (record_declaration name: (identifier) @name body: (_) @body) @definition.class
    (annotation_type_declaration name: (identifier) @name body: (_) @body) @definition.class
    (method_declaration name: (identifier) @name body: (_) @body) @definition.method
    (method_declaration name: (identifier) @name !body) @definition.method
    (constructor_declaration name: (identifier) @name body: (_) @body) @definition.method
    (field_declaration declarator: (variable_declarator name: (identifier) @name)) @definition.constant
    """,
    imports="(import_declaration [(scoped_identifier) (identifier)] @module)",
    containers={"class_declaration": "name", "interface_declaration": "name", "enum_declaration": "name",
                "record_declaration": "name"},
    scopes=frozenset({"method_declaration", "constructor_declaration", "lambda_expression",
                      "object_creation_expression"}),
)

# Prototypes count where a header declares its API: at file level, inside include guards and other
# `#if`s, inside `extern "C" { }` and namespaces; not inside function bodies (`std::string s(name);`)
_FILE_LEVEL = ("translation_unit", "preproc_ifdef", "preproc_if", "preproc_else", "preproc_elif", "declaration_list")


def _at_file_level(pattern: str) -> str:
    """`pattern` (one node, captures inside) wherever a header declares its API."""
    return "\n".join(f"({parent} {pattern})" for parent in _FILE_LEVEL)


# a prototype's declarator (`int f(...);`, `char *f(...);`, `char **f(...);`), not a function pointer's
_C_PROTOTYPE = """[
    (function_declarator declarator: (identifier) @name)
    (pointer_declarator declarator: (function_declarator declarator: (identifier) @name))
    (pointer_declarator declarator: (pointer_declarator declarator:
      (function_declarator declarator: (identifier) @name)))]"""
# and in C++ also `T& f(...);`, and `operator==`, `~T` or `T::f` as the name
_CPP_PROTOTYPE = """[
    (function_declarator declarator: (_) @name)
    (pointer_declarator declarator: (function_declarator declarator: (_) @name))
    (pointer_declarator declarator: (pointer_declarator declarator: (function_declarator declarator: (_) @name)))
    (reference_declarator (function_declarator declarator: (_) @name))]"""

_C_DEFINITIONS = """
(function_definition declarator: [
    (function_declarator declarator: (_) @name)
    (pointer_declarator declarator: (function_declarator declarator: (_) @name))
    (pointer_declarator declarator: (pointer_declarator declarator: (function_declarator declarator: (_) @name)))]
  body: (_) @body) @definition.function
(struct_specifier name: (_) @name body: (_) @body) @definition.class
(union_specifier name: (_) @name body: (_) @body) @definition.class
(enum_specifier name: (_) @name body: (_) @body) @definition.class
(type_definition declarator: (type_identifier) @name) @definition.class
(preproc_def name: (identifier) @name value: (_)) @definition.constant
(preproc_function_def name: (identifier) @name parameters: (_) @header_end) @definition.function
(translation_unit (declaration (type_qualifier) declarator: (init_declarator declarator: (identifier) @name))
  @definition.constant)
"""

C = OutlineSpec(
    definitions=_C_DEFINITIONS + _at_file_level(f"(declaration declarator: {_C_PROTOTYPE}) @definition.function"),
    imports="(preproc_include path: (_) @module)",
    scopes=frozenset({"function_definition"}),
)

CPP = OutlineSpec(
    definitions=_C_DEFINITIONS + f"""
    (function_definition declarator: (reference_declarator (function_declarator declarator: (_) @name))
      body: (_) @body) @definition.function
    (class_specifier name: (_) @name body: (_) @body) @definition.class
    (field_declaration_list (field_declaration declarator: [
        (function_declarator declarator: (_) @name)
        (pointer_declarator declarator: (function_declarator declarator: (_) @name))
        (reference_declarator (function_declarator declarator: (_) @name))]) @definition.method)
    (field_declaration_list (declaration declarator: (function_declarator declarator: (_) @name))
      @definition.method)
    (field_declaration_list (template_declaration (declaration declarator: {_CPP_PROTOTYPE}) @definition.method))
    (alias_declaration name: (_) @name) @definition.class
    """
    + _at_file_level(f"(declaration declarator: {_CPP_PROTOTYPE}) @definition.function")
    + _at_file_level(f"(template_declaration (declaration declarator: {_CPP_PROTOTYPE}) @definition.function)"),
    imports="(preproc_include path: (_) @module)",
    containers={"class_specifier": "name", "struct_specifier": "name", "union_specifier": "name"},
    scopes=frozenset({"function_definition", "lambda_expression"}),
)

LUA = OutlineSpec(
    definitions="""
    (function_declaration name: (identifier) @name parameters: (_) @header_end) @definition.function
    (function_declaration name: (dot_index_expression table: (_) @container field: (identifier) @name)
        parameters: (_) @header_end) @definition.function
    (function_declaration name: (method_index_expression table: (_) @container method: (identifier) @name)
        parameters: (_) @header_end) @definition.method
    (chunk (variable_declaration (assignment_statement (variable_list . name: (identifier) @name)
        (expression_list . value: (function_definition parameters: (_) @header_end)))) @definition.function)
    (chunk (assignment_statement (variable_list . name: (dot_index_expression table: (_) @container
        field: (identifier) @name)) (expression_list . value: (function_definition parameters: (_) @header_end)))
        @definition.function)
    (chunk (variable_declaration (assignment_statement (variable_list . name: (identifier) @container)
        (expression_list . value: (table_constructor (field name: (identifier) @name
            value: (function_definition parameters: (_) @header_end)) @definition.function)))))
    (chunk (assignment_statement (variable_list . name: (identifier) @container)
        (expression_list . value: (table_constructor (field name: (identifier) @name
            value: (function_definition parameters: (_) @header_end)) @definition.function))))
    """,
    imports="""
    (function_call name: (identifier) @_require arguments: (arguments . (string content: (_) @module))
        (#eq? @_require "require"))
    """,
    scopes=frozenset({"function_declaration", "function_definition"}),
)

SPECS: dict[str, OutlineSpec] = {
    "python": PYTHON,
    "javascript": JAVASCRIPT,
    "javascriptreact": JAVASCRIPT,
    "typescript": TYPESCRIPT,
    "typescriptreact": TYPESCRIPT,
    "go": GO,
    "rust": RUST,
    "java": JAVA,
    "c": C,
    "cpp": CPP,
    "lua": LUA,
}
