/** Side-effect module: anything that trains imports this so gradients exist on every backend. */
import { registerTrainingGradients } from "../ops/training_gradients.ts";
await registerTrainingGradients();
