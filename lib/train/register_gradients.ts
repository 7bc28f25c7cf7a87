/** Side-effect module: anything that trains imports this so gradients exist on every backend. */
import { registerTrainingGradients } from "../backend/gradients.ts";
await registerTrainingGradients();
