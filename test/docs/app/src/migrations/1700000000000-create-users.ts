export { CreateUsers1700000000000 } from '../reader-app';
