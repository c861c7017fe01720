/**
 * Entry of the script-tag bundle (dist/browser/bitnet.js, global `BitNet`): records where the script
 * was loaded from, so the worker bundle, wasm kernels and default model are found next to it, then
 * exposes the public API. Load it with a classic `<script src=".../dist/browser/bitnet.js">`.
 */
import { captureScriptBase } from '../worker/assets.js';

captureScriptBase();

export * from '../index.js';
