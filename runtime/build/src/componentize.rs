//! Core module → component: embed the WIT world, then wrap the module with wasmtime 48's
//! WASI preview1 reactor adapter (what `wasm-tools component embed` and
//! `wasm-tools component new --adapt` do, in-process).

use std::path::Path;

use wasi_preview1_component_adapter_provider::{
    WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME, WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER,
};
use wit_component::{ComponentEncoder, StringEncoding};
use wit_parser::Resolve;

use crate::BuildError;

/// Turns a WebAssembly core module (Go's `wasip1` output, or any module following the
/// canonical ABI's legacy name mangling) into a component of `world` from the WIT package
/// in `wit_dir`, and validates the result.
///
/// The module's `wasi_snapshot_preview1` imports are satisfied by the preview1 *reactor*
/// adapter of wasmtime 48, so the component imports WASI 0.2 (which the host links with
/// nothing granted) and the world's own imports.
///
/// Errors: [`BuildError::Wit`] or [`BuildError::World`] if the contract cannot be read,
/// [`BuildError::NotACoreModule`] if `core` is not a core module, and
/// [`BuildError::DoesNotFit`] if it does not implement the world.
pub fn componentize_core_module(
    core: &[u8],
    wit_dir: &Path,
    world: &str,
) -> Result<Vec<u8>, BuildError> {
    let mut resolve = Resolve::default();
    let (package, _) = resolve.push_dir(wit_dir).map_err(|error| BuildError::Wit {
        dir: wit_dir.to_path_buf(),
        detail: format!("{error:#}"),
    })?;
    let world_id = resolve
        .select_world(&[package], Some(world))
        .map_err(|error| BuildError::World {
            world: world.to_owned(),
            dir: wit_dir.to_path_buf(),
            detail: format!("{error:#}"),
        })?;

    let mut module = core.to_vec();
    wit_component::embed_component_metadata(&mut module, &resolve, world_id, StringEncoding::UTF8)
        .map_err(|error| BuildError::NotACoreModule {
            detail: format!("{error:#}"),
        })?;

    let does_not_fit = |detail: String| BuildError::DoesNotFit {
        world: world.to_owned(),
        detail,
    };
    ComponentEncoder::default()
        .validate(true)
        .module(&module)
        .map_err(|error| does_not_fit(format!("{error:#}")))?
        .adapter(
            WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME,
            WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER,
        )
        .map_err(|error| does_not_fit(format!("{error:#}")))?
        .encode()
        .map_err(|error| does_not_fit(format!("{error:#}")))
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use wasm_encoder::{
        CodeSection, EntityType, ExportKind, ExportSection, Function, FunctionSection,
        ImportSection, MemorySection, MemoryType, Module, TypeSection, ValType,
    };
    use wit_component::DecodedWasm;
    use wit_parser::abi::{AbiVariant, WasmType};
    use wit_parser::{
        LiftLowerAbi, ManglingAndAbi, WasmExport, WasmExportKind, WasmImport, WorldItem,
    };

    use super::*;
    use crate::WORLD;

    const LEGACY: ManglingAndAbi = ManglingAndAbi::Legacy(LiftLowerAbi::Sync);

    fn wit_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../wit")
    }

    fn val_type(ty: &WasmType) -> ValType {
        match ty {
            WasmType::I64 | WasmType::PointerOrI64 => ValType::I64,
            WasmType::F32 => ValType::F32,
            WasmType::F64 => ValType::F64,
            WasmType::I32 | WasmType::Pointer | WasmType::Length => ValType::I32,
        }
    }

    /// A core module shaped like Go's output: every export of the world (bodies that trap),
    /// `memory`, `cabi_realloc`, an import of the world (`log`) and one of WASI preview1
    /// (`fd_write`, which only the adapter can satisfy).
    fn core_module_for_world(exports: bool) -> Vec<u8> {
        core_module_for_world_in(&wit_dir(), exports)
    }

    /// [`core_module_for_world`] for the contract in `wit`.
    fn core_module_for_world_in(wit: &Path, exports: bool) -> Vec<u8> {
        let mut resolve = Resolve::default();
        let (package, _) = resolve.push_dir(wit).expect("wit/ parses");
        let world = resolve
            .select_world(&[package], Some(WORLD))
            .expect("world exists");

        let mut types = TypeSection::new();
        let mut imports = ImportSection::new();
        let mut functions = FunctionSection::new();
        let mut export_section = ExportSection::new();
        let mut code = CodeSection::new();
        let mut add_type = |params: Vec<ValType>, results: Vec<ValType>| {
            types.ty().function(params, results);
            types.len() - 1
        };

        let fd_write = add_type(vec![ValType::I32; 4], vec![ValType::I32]);
        imports.import(
            "wasi_snapshot_preview1",
            "fd_write",
            EntityType::Function(fd_write),
        );
        let mut imported = 1;
        for (key, item) in &resolve.worlds[world].imports {
            let WorldItem::Interface { id, .. } = item else {
                continue;
            };
            for func in resolve.interfaces[*id].functions.values() {
                let sig = resolve.wasm_signature(AbiVariant::GuestImport, func);
                let ty = add_type(
                    sig.params.iter().map(val_type).collect(),
                    sig.results.iter().map(val_type).collect(),
                );
                let (module, name) = resolve.wasm_import_name(
                    LEGACY,
                    WasmImport::Func {
                        interface: Some(key),
                        func,
                    },
                );
                imports.import(&module, &name, EntityType::Function(ty));
                imported += 1;
            }
        }

        let mut trap = |ty: u32, name: &str| {
            functions.function(ty);
            let mut body = Function::new([]);
            body.instructions().unreachable().end();
            code.function(&body);
            let index = imported + functions.len() - 1;
            export_section.export(name, ExportKind::Func, index);
        };
        let realloc = add_type(vec![ValType::I32; 4], vec![ValType::I32]);
        trap(
            realloc,
            &resolve.wasm_export_name(LEGACY, WasmExport::Realloc),
        );
        if exports {
            for (key, item) in &resolve.worlds[world].exports {
                let WorldItem::Interface { id, .. } = item else {
                    continue;
                };
                for func in resolve.interfaces[*id].functions.values() {
                    let sig = resolve.wasm_signature(AbiVariant::GuestExport, func);
                    let ty = add_type(
                        sig.params.iter().map(val_type).collect(),
                        sig.results.iter().map(val_type).collect(),
                    );
                    let name = resolve.wasm_export_name(
                        LEGACY,
                        WasmExport::Func {
                            interface: Some(key),
                            func,
                            kind: WasmExportKind::Normal,
                        },
                    );
                    trap(ty, &name);
                }
            }
        }

        let mut memories = MemorySection::new();
        memories.memory(MemoryType {
            minimum: 1,
            maximum: None,
            memory64: false,
            shared: false,
            page_size_log2: None,
        });
        export_section.export("memory", ExportKind::Memory, 0);

        let mut module = Module::new();
        module
            .section(&types)
            .section(&imports)
            .section(&functions)
            .section(&memories)
            .section(&export_section)
            .section(&code);
        module.finish()
    }

    fn world_names(component: &[u8]) -> (Vec<String>, Vec<String>) {
        let DecodedWasm::Component(resolve, world) =
            wit_component::decode(component).expect("the output decodes")
        else {
            panic!("the output is a WIT package, not a component");
        };
        let names = |items: &wit_parser::IndexMap<wit_parser::WorldKey, WorldItem>| {
            items
                .keys()
                .map(|key| resolve.name_world_key(key))
                .collect::<Vec<_>>()
        };
        let world = &resolve.worlds[world];
        (names(&world.imports), names(&world.exports))
    }

    #[test]
    fn the_host_refuses_a_component_of_another_contract_version_by_name() {
        // The contract as it was, with only its version changed.
        let old = std::env::temp_dir().join(format!("weft-old-wit-{}", std::process::id()));
        for dir in ["", "deps"] {
            std::fs::create_dir_all(old.join(dir)).expect("temp dir");
            for entry in std::fs::read_dir(wit_dir().join(dir)).expect("wit/") {
                let path = entry.expect("entry").path();
                if path.is_dir() {
                    continue;
                }
                let text = std::fs::read_to_string(&path).expect("read");
                let text = text.replace(&format!("@{}", weft_wasm::CONTRACT_VERSION), "@0.1.0");
                let name = path.file_name().expect("name");
                std::fs::write(old.join(dir).join(name), text).expect("write");
            }
        }
        let core = core_module_for_world_in(&old, true);
        let component = componentize_core_module(&core, &old, WORLD).expect("componentizes");
        let cache = old.join("cache");
        let host = weft_wasm::WasmHost::new(cache).expect("host");
        let err = host
            .load("old", &component, weft_wasm::Sandbox::default())
            .expect_err("another contract version");
        let _ = std::fs::remove_dir_all(&old);
        assert!(
            matches!(&err, weft_wasm::LoadError::ContractVersion { found } if found == "0.1.0"),
            "{err}"
        );
        assert!(
            err.to_string().contains("rebuild it with the current SDK"),
            "{err}"
        );
    }

    #[test]
    fn componentizes_a_core_module_that_implements_the_world() {
        let core = core_module_for_world(true);
        let component = componentize_core_module(&core, &wit_dir(), WORLD).expect("componentizes");
        let (imports, exports) = world_names(&component);
        for name in [
            "definitions",
            "ops",
            "sensors",
            "schedules",
            "hooks",
            "checks",
        ] {
            let full = format!("weft:plugin/{name}@0.10.0");
            assert!(exports.contains(&full), "{full} not in {exports:?}");
        }
        assert!(
            imports.contains(&"weft:plugin/log@0.10.0".to_owned()),
            "{imports:?}"
        );
        // fd_write went through the adapter: the component imports WASI 0.2, not preview1.
        assert!(
            imports
                .iter()
                .any(|name| name.starts_with("wasi:io/streams")),
            "{imports:?}"
        );
    }

    #[test]
    fn rejects_a_module_missing_the_exports() {
        let core = core_module_for_world(false);
        let error = componentize_core_module(&core, &wit_dir(), WORLD).expect_err("rejected");
        assert!(matches!(error, BuildError::DoesNotFit { .. }), "{error}");
    }

    #[test]
    fn rejects_bytes_that_are_not_a_module() {
        let error = componentize_core_module(b"not wasm", &wit_dir(), WORLD).expect_err("rejected");
        assert!(
            matches!(
                error,
                BuildError::NotACoreModule { .. } | BuildError::DoesNotFit { .. }
            ),
            "{error}"
        );
    }

    #[test]
    fn reports_a_missing_contract_and_an_unknown_world() {
        let core = core_module_for_world(true);
        let missing = Path::new(env!("CARGO_MANIFEST_DIR")).join("no-such-wit");
        let error = componentize_core_module(&core, &missing, WORLD).expect_err("no wit");
        assert!(matches!(error, BuildError::Wit { .. }), "{error}");
        let error =
            componentize_core_module(&core, &wit_dir(), "no-such-world").expect_err("no world");
        assert!(matches!(error, BuildError::World { .. }), "{error}");
    }
}
