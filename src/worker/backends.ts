/**
 * Registers the compute backends with the registry (the reference backend registers itself). Imported
 * by the engine core's entry points so that `auto` selection sees every backend this build has.
 */
import '../backends/registry.js';
