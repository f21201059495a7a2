import { Controller } from '@nestjs/common';

/** The reader's own controller. */
@Controller('orders')
export class OrdersController {}
