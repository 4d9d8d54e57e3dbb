// `node --require llm-finops/register app.js`
import { register } from './setup';

register();
