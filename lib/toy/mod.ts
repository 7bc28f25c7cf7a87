/**
 * lib/toy: the 1D regression toy of the paper's Figure 2 (one fixed random MLP teacher with one
 * hidden layer; a symmetric student of the same architecture and an asymmetric student with three
 * hidden layers), self-contained on tfjs. May import: lib/train, lib/util.
 */
export { type Activation, createMlp, hiddenLayers, type Mlp, mlpForward, type MlpSpec, parameterShapes } from "./mlp.ts";
export {
  disposeSetup,
  fitStudents,
  regionDistances,
  TOY_DEFAULTS,
  toyArchitectures,
  type ToyOptions,
  toyRegression1d,
  toyRegressionSeeds,
  type ToyResult,
  type ToySeedRow,
  toySeedRow,
  toySetup,
  type ToySetup,
} from "./regression_1d.ts";
